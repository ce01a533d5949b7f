"""The slower limit per address, in front of the per-(username, address) lockout of django-axes.

Failures of any username from one address are counted in the database
(``firstline.accounts.limits``, so every process shares them); past
``settings.LOGIN_IP_FAILURE_LIMIT`` in an hour the address gets the lockout answer,
even for a right password, until the hour ends. One office or a carrier's shared
address needs many people's typos to reach it; a script guessing usernames does not.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

from firstline.accounts import limits
from firstline.audit.log import client_ip


def address_key(request: Any) -> str:
    return f"login:ip:{client_ip(request) or 'unknown'}"


def address_over_limit(request: Any) -> bool:
    allowance = limits.peek(
        address_key(request), limit=settings.LOGIN_IP_FAILURE_LIMIT, window=settings.LOGIN_IP_WINDOW_SECONDS
    )
    return not allowance.allowed


def count_address_failure(request: Any) -> None:
    limits.take(address_key(request), limit=settings.LOGIN_IP_FAILURE_LIMIT, window=settings.LOGIN_IP_WINDOW_SECONDS)


class AddressLimitBackend:
    """Authenticates nobody: refuses every attempt from an address over its limit (the answer is the lockout's).

    No ``get_user``: a session never names this backend (the test client's ``force_login`` and
    ``login`` pick the first backend that has one).
    """

    def authenticate(self, request: Any, **credentials: Any) -> None:
        if request is not None and address_over_limit(request):
            request.axes_locked_out = True  # answered as a lockout by AxesMiddleware, or in JSON by the token API
            request.firstline_address_locked = True
            raise PermissionDenied
        return None
