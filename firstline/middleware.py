"""Requests too large to take in: answered 413 with a page that says so, before the body is read.

Django refuses a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only once it is read, as a
400 with a traceback in the log; an upload (multipart) may be as large as an import allows
(``IMPORT_MAX_BYTES``, a little more for the other fields). The declared length is checked
here, after the language is chosen and before CSRF reads the body: the import page's own
check (``import_upload``, also 413) stays behind it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

UPLOAD_MARGIN = 64 * 1024  # the form's other fields and the multipart boundaries


def too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.IMPORT_MAX_BYTES // (1024 * 1024)
    return render(request, "413.html", {"size": limit}, status=413)


def body_limit(request: HttpRequest) -> int:
    if request.content_type == "multipart/form-data":
        return settings.IMPORT_MAX_BYTES + UPLOAD_MARGIN
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestSizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):  # a body without a declared length
            return too_large(request)
        return None
