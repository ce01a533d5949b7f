"""The job queue (Huey): long work runs here, never in a request.

Tasks live in each app's ``tasks.py`` (Huey's Django integration finds them);
``firstline serve`` starts the consumer beside the web server. Tests run tasks
immediately, in-process (see conftest.py).
"""

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404
from huey.contrib.djhuey import HUEY

huey = HUEY


class JobFiles:
    """A folder under ``DATA_DIR`` for jobs that make a file (letters, pass cards): each job's progress is a
    small JSON file, ``<token>.json``, beside what it makes, ``<token><suffix>``; both are kept ``hours``.

    A page polls ``read``; the job replaces the JSON with ``write`` as it goes (atomically: a reader
    never sees half of it); a periodic task calls ``purge``.
    """

    def __init__(self, name: str, *, suffix: str = ".pdf", hours: int = 24) -> None:
        self.name, self.suffix, self.hours = name, suffix, hours

    def folder(self) -> Path:
        folder = Path(settings.DATA_DIR) / self.name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def job_path(self, token: str) -> Path:
        return self.folder() / f"{token}.json"

    def output_path(self, token: str) -> Path:
        return self.folder() / f"{token}{self.suffix}"

    def read(self, token: str) -> dict[str, Any] | None:
        """The job's progress, or None for an unknown or malformed token."""
        if not token.isalnum():
            return None
        try:
            return json.loads(self.job_path(token).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write(self, job: dict[str, Any]) -> None:
        path = self.job_path(job["token"])
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(job), encoding="utf-8")
        os.replace(scratch, path)

    @contextmanager
    def failing(self, job: dict[str, Any]) -> Iterator[None]:
        """Around a job's work: an error marks the job failed (the page says so) and goes on up."""
        try:
            yield
        except Exception:
            job["state"] = "failed"
            self.write(job)
            raise

    def download(self, job: dict[str, Any], token: str, filename: str) -> FileResponse:
        """What a finished job made, as a PDF the browser shows (never cached: letters and cards hold codes);
        404 while it is not done."""
        path = self.output_path(token)
        if job.get("state") != "done" or not path.exists():
            raise Http404
        response = FileResponse(path.open("rb"), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response

    def purge(self, now: float | None = None) -> int:
        """Remove what is older than ``hours``; returns how many files went."""
        cutoff = (now or time.time()) - self.hours * 3600
        removed = 0
        for path in self.folder().iterdir():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
