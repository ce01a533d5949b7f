"""Requests refused before a view sees them: too large (413), or text holding a NUL (400).

Too large: answered 413 with a page that says so, before the body is read.

Django refuses a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only once it is read, as a
400 with a traceback in the log; an upload (multipart) may be as large as an import allows
(``IMPORT_MAX_BYTES``, a little more for the other fields). The declared length is checked
here, after the language is chosen and before CSRF reads the body: the import page's own
check (``import_upload``, also 413) stays behind it.

NUL: PostgreSQL can neither store nor compare text holding ``\\x00`` (a query with one is
a server error), SQLite stores it; either way it is no text a person typed. A path,
query string, form or JSON body with one is a 400 with a message in the caller's language.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from firstline.schemas import holds_nul

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


# --- NUL characters ---------------------------------------------------------------------------

NUL_REFUSED = gettext_lazy(
    "The text contains an invisible control character (NUL) that cannot be stored: remove it and send again."
)


BATCHES = ("/api/v1/scans", "/api/v1/visits")


def carries_nul(request: HttpRequest) -> bool:
    """Whether the path, the query string or a text body (JSON or form) holds a NUL.

    Files (multipart) are not looked at: an upload is read by the import, which keeps
    its own rules. The body is already bounded by ``RequestSizeMiddleware``. A gate
    phone's batch of scans or visits is let through: there the item with a NUL is
    refused on its own (``bad_text``) and the rest of the batch is kept.
    """
    if request.path in BATCHES:
        return False
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.content_type == "multipart/form-data":
        return False
    body = request.body
    if b"\x00" in body or (b"%00" in body and request.content_type == "application/x-www-form-urlencoded"):
        return True
    if b"\\u0000" in body and request.content_type == "application/json":
        try:
            return holds_nul(json.loads(body))
        except ValueError:
            return False  # not JSON: the API says so
    return False


class NulMiddleware:
    """Refuse a request whose text holds a NUL with 400 and a message, before any view reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": str(NUL_REFUSED)}, status=400)
            return render(request, "400.html", {"message": NUL_REFUSED}, status=400)
        return self.get_response(request)


# --- Content-Security-Policy and Permissions-Policy ---------------------------------------------

# Scripts only from this site's files: no inline script, no event-handler attribute, no
# ``javascript:`` link, no eval (the pages keep their behaviour in static/*.js). Styles may be
# inline (a bar's width, htmx's indicator style); images may be data: or blob: URLs (QR codes,
# photos taken at a gate); nothing is loaded from another site and no other site may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# The camera is for this site's own pages (the gate app scans passes); nothing else a page
# could ask the browser for is used, so it is refused for every page and every frame.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()"
)


class PolicyHeadersMiddleware:
    """Every answer carries the Content-Security-Policy and the Permissions-Policy above."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
