"""The project's WSGI application plus one bare view, for ``bench/scans.py`` only.

``POST /bench/bare`` parses the JSON body and answers a tiny JSON, touching no
database: the least a Django view behind the same middleware and the same gunicorn
can do with the same request. Never deployed.
"""

from __future__ import annotations

import json
import os

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstline.settings")


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    items = json.loads(request.body)
    return JsonResponse({"results": [{"client_id": item.get("client_id"), "status": "stored"} for item in items]})


def _urlpatterns() -> list:
    from firstline.urls import urlpatterns

    return [path("bench/bare", bare), *urlpatterns]


from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = __name__
application = get_wsgi_application()
urlpatterns = _urlpatterns()
