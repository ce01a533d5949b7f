"""Logins and logouts go to the audit log, failures count against their address (auth's own hooks)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from firstline.accounts.backends import count_address_failure
from firstline.audit.log import record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    record("login", actor=user, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record("logout", actor=user, request=request)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The attempted username is kept in the detail; the password never is.
    record("login_failed", detail={"username": str(credentials.get("username", ""))[:150]}, request=request)
    if request is not None and not getattr(request, "firstline_address_locked", False):
        count_address_failure(request)
