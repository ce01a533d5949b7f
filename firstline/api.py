"""API v1: one NinjaAPI, each app adds its router (``<app>/api.py``).

Every endpoint needs a device token (``Authorization: Bearer``) or the browser's
session, except ``POST /auth/token`` which issues the token. Error bodies are
``{"detail": "..."}`` in the request's language; 404 is the same whether the
record does not exist or is out of the caller's scope. A body that does not fit
the schema is 422 (with the field errors); an action that refuses what was sent
(``ValidationError``) is 400, and one the caller may not do (``PermissionDenied``) 403.

The interactive docs are served only when ``ninja`` is in ``INSTALLED_APPS``:
otherwise django-ninja renders them with scripts from a CDN, which FirstLine
never loads (installations may be offline, and the page would trust a third party).
With ``ninja`` installed the page uses the Swagger UI files bundled with django-ninja.
The docs and ``openapi.json`` are for logged-in staff only (404 for anyone else): the
map of every endpoint is no help to a resident and some help to an attacker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError

from firstline.accounts.api import BearerToken, BrowserSession
from firstline.accounts.api import router as accounts_router
from firstline.accounts.limits import Refused
from firstline.gates.api import router as gates_router
from firstline.people.api import router as people_router
from firstline.status.api import router as status_router
from firstline.tasks.api import router as tasks_router


def staff_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def for_staff(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not (request.user.is_authenticated and request.user.is_staff):
            raise Http404
        return view(request, *args, **kwargs)

    return for_staff


api = NinjaAPI(
    title="FirstLine API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), BrowserSession()],
    docs_url="/docs" if "ninja" in settings.INSTALLED_APPS else None,
    # Swagger UI would otherwise send the schema's address to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=staff_only,
)


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    response = api.create_response(request, {"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Authentication required: send an API token or log in."))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Never the exception text: it could say which lookup failed.
    return _error(request, 404, _("Not found"))


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    if isinstance(exc, Refused):  # its message is written for the user: say why, and when to retry
        response = _error(request, 403 if exc.retry_after is None else 429, exc.message)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    return _error(request, 403, _("You may not do this here."))


@api.exception_handler(ValidationError)
def refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # An action refused what was sent: its messages are written for users, in the request's language.
    return _error(request, 400, " ".join(exc.messages))


api.add_router("/auth", accounts_router)
api.add_router("/", people_router)
api.add_router("/", status_router)
api.add_router("/", tasks_router)
api.add_router("/", gates_router)
