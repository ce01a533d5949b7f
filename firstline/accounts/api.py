"""API authentication: device tokens (``Authorization: Bearer``) and the browser's session.

A device (gate phone, app) trades a username and password for a token at
``POST /auth/token``. The password check goes through ``authenticate(request=...)``
so that django-axes counts failures and locks out as it does for the web login.
Only the token's hash is stored; ``last_used_at`` is written at most once a minute
so that a busy device does not cause a write per request.

A token has a scope of use: ``worker`` (what its user's roles allow) or ``gate``
(only the endpoints a gate phone needs, which say so with ``auth=GATE_DEVICES``).
Anywhere else a gate token gets 403, whatever its user may do. A revoked token
(``/auth/devices``, ``/auth/logout``, a password change, a deactivation) gets 401.

The browser uses its Django session; CSRF applies to unsafe methods, checked only
once the session is known to belong to a user (an anonymous caller gets 401).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from firstline import prepared
from firstline.accounts.actions import do_issue_token, do_revoke_token
from firstline.accounts.models import ApiToken, User, hash_token
from firstline.accounts.queries import devices_for, revocable_by
from firstline.scoping import get_visible_or_404

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: a live token of an active user, or 401; of an allowed scope, or 403."""

    def __init__(self, scopes: tuple[str, ...] = (ApiToken.Scope.WORKER,)) -> None:
        super().__init__()
        self.scopes = scopes

    def __call__(self, request: HttpRequest) -> Any:
        # Parsed here rather than by HttpBearer, which logs the whole header (a credential) in DEBUG.
        scheme, _sep, key = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        now = timezone.now()
        found = None
        if token and len(token) <= MAX_TOKEN_LENGTH:
            found = token_with_user(hash_token(token))
        if found is None or not found.is_live(now) or not found.user.is_active:
            # Fail here rather than fall through to the session: a device with a bad token must know.
            raise HttpError(401, _("This API token is not valid or has expired: request a new one."))
        if found.scope not in self.scopes:
            raise HttpError(403, _("This device is registered for a gate: it can only check passes and record scans."))
        if found.last_used_at is None or now - found.last_used_at >= TOKEN_TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


def token_with_user(key_hash: str) -> ApiToken | None:
    """``ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()`` (the hash is unique).

    Its SQL written once: every API request of a device asks (``firstline.prepared`` says why).
    """
    rows = prepared.fetch(_token_sql(connection.vendor), [key_hash])
    if not rows:
        return None
    found = prepared.instance(ApiToken, rows[0])
    found.user = prepared.instance(User, rows[0], start=len(ApiToken._meta.concrete_fields))
    return found


@functools.cache
def _token_sql(vendor: str) -> str:
    return (
        f"SELECT {prepared.columns(ApiToken)}, {prepared.columns(User)}"  # noqa: S608 (names from _meta)
        f" FROM {prepared.table(ApiToken)} INNER JOIN {prepared.table(User)}"
        f" ON {prepared.column(User, 'id')} = {prepared.column(ApiToken, 'user')}"
        f" WHERE {prepared.column(ApiToken, 'key_hash')} = %s"
    )


class BrowserSession(APIKeyCookie):
    """The logged-in browser's Django session; unsafe methods need the CSRF token."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF is checked in authenticate(), after we know there is a user to protect.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("The security check (CSRF) failed: reload the page and try again."))
        return user


# The endpoints a gate phone needs: its token, or a worker's, or the browser's session.
GATE_DEVICES = [BearerToken(scopes=(ApiToken.Scope.WORKER, ApiToken.Scope.GATE)), BrowserSession()]

router = Router(tags=["auth"])


class Credentials(Schema):
    username: str
    password: str
    device_name: str = Field("", max_length=60, description="shown on the devices page, e.g. 东门 1 号手机")
    scope: Literal["worker", "gate"] = Field("worker", description="gate: this device only checks passes at a gate")


class IssuedToken(Schema):
    token: str
    code: str = Field(description="the device's code on the devices page")
    scope: str
    expires_at: datetime


class DeviceOut(Schema):
    code: str
    name: str
    scope: str
    user: str = Field(description="username")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_why: str = Field(description="user, admin, logout, password or deactivated; empty while live")
    current: bool = Field(description="the token of this request")


class Error(Schema):
    """Every 4xx body of the API (422 adds a list of field errors under ``detail``)."""

    detail: str


@router.post(
    "/token",
    auth=None,
    response={200: IssuedToken, 401: Error, 429: Error},
    summary="Trade a username and password for a device token",
)
def issue_token(request: HttpRequest, credentials: Credentials) -> Any:
    user = authenticate(request=request, username=credentials.username, password=credentials.password)
    if getattr(request, "axes_locked_out", False):
        # Answer the lockout in JSON ourselves; left set, the flag makes AxesMiddleware
        # replace this response with the HTML lockout page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        if getattr(request, "firstline_address_locked", False):
            detail = _("Too many failed logins from this address: wait an hour, or log in from another network.")
        else:
            detail = _("Too many failed attempts: this account is locked for a while. Try again later.")
        return Status(429, {"detail": detail})
    if user is None:
        return Status(401, {"detail": _("The username or password is not correct.")})
    key = do_issue_token(user, request=request, name=credentials.device_name, scope=credentials.scope)
    token = ApiToken.objects.only("code", "scope", "expires_at").get(key_hash=hash_token(key))
    return Status(200, {"token": key, "code": token.code, "scope": token.scope, "expires_at": token.expires_at})


def device_item(token: ApiToken, current: ApiToken | None) -> dict[str, Any]:
    return {
        "code": token.code,
        "name": token.name,
        "scope": token.scope,
        "user": token.user.get_username(),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "revoked_why": token.revoked_why,
        "current": current is not None and current.pk == token.pk,
    }


@router.get("/devices", auth=GATE_DEVICES, response={200: list[DeviceOut]}, summary="My devices and my team's")
def list_devices(request: HttpRequest) -> Any:
    """The caller's live tokens and, for a team administrator, the live tokens of the team."""
    current = getattr(request, "api_token", None)
    return [device_item(token, current) for token in devices_for(request.user)]


@router.post(
    "/devices/{code}/revoke",
    auth=GATE_DEVICES,
    response={200: DeviceOut, 404: Error},
    summary="Revoke a device: mine, or one of my team's",
)
def revoke_device(request: HttpRequest, code: str) -> Any:
    token = get_visible_or_404(revocable_by(request.user), code=code)
    return device_item(do_revoke_token(request.user, token, request=request), getattr(request, "api_token", None))


@router.post("/logout", auth=GATE_DEVICES, response={204: None}, summary="Log this device out: its token ends now")
def logout_device(request: HttpRequest) -> Any:
    token = getattr(request, "api_token", None)
    if token is not None:
        do_revoke_token(request.user, token, why=ApiToken.Why.LOGOUT, request=request)
    return Status(204, None)
