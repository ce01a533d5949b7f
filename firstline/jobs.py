"""The job queue (Huey): long work runs here, never in a request.

Tasks live in each app's ``tasks.py`` (Huey's Django integration finds them);
``firstline serve`` starts the consumer beside the web server. Tests run tasks
immediately, in-process (see conftest.py).
"""

from huey.contrib.djhuey import HUEY

huey = HUEY
