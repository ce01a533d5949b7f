"""Limits that hold across processes: counts per key and fixed window, kept in the database.

``take(key, limit=…, window=…)`` counts ``amount`` against the key in the current
window with one atomic upsert, and says whether the count is still within the
limit. Several gunicorn workers, or several servers on one PostgreSQL database,
share the same counts; nothing is kept in process memory.

Keys name what is counted and for whom, e.g. ``search:user:42``; they are
stored hashed. A window is aligned to multiples of its length (a day is the
deployment's local day), so a limit of 30 per 10 minutes admits at most 30 in
any aligned 10 minutes.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from firstline.accounts.models import RateCount

DAY = 86400


@dataclass(frozen=True)
class Allowance:
    allowed: bool  # the count, with this amount, is within the limit
    count: int  # the count in this window, including this amount
    limit: int
    retry_after: int  # seconds until the window ends


class Refused(PermissionDenied):
    """An action refused with a message written for the user; over a limit, it says when to retry.

    The API answers it with 429 and ``Retry-After`` when ``retry_after`` is set, 403 otherwise.
    """

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _window(window: int, now: float) -> tuple[int, int]:
    if window == DAY:  # the local day, so that "per day" means what a worker thinks it means
        local = timezone.localtime(datetime.fromtimestamp(now, tz=timezone.get_current_timezone()))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(midnight.timestamp()), int((midnight + timedelta(days=1)).timestamp())
    start = int(now) - int(now) % window
    return start, start + window


_UPSERT = (
    "INSERT INTO {table} (key_hash, window_start, window_end, count) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (key_hash, window_start) DO UPDATE SET count = {table}.count + excluded.count "
    "RETURNING count"
)


def take(key: str, *, limit: int, window: int, amount: int = 1, now: float | None = None) -> Allowance:
    """Count ``amount`` against ``key`` in the current window; allowed while the count stays within ``limit``."""
    now = time.time() if now is None else now
    start, end = _window(window, now)
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(table=table), [_hash(key), start, end, amount])
        count = int(cursor.fetchone()[0])
    return Allowance(allowed=count <= limit, count=count, limit=limit, retry_after=max(end - int(now), 1))


_UPSERT_WITHIN = (
    "INSERT INTO {table} (key_hash, window_start, window_end, count) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (key_hash, window_start) DO UPDATE SET count = {table}.count + excluded.count "
    "WHERE {table}.count + excluded.count <= %s "
    "RETURNING count"
)


def take_within(key: str, *, limit: int, window: int, amount: int = 1, now: float | None = None) -> Allowance:
    """Count ``amount`` against ``key`` only if the count stays within ``limit``: all of it, or nothing.

    Unlike ``take``, a refused amount is not counted (a page the API does not hand
    out must not use up the day's allowance).
    """
    now = time.time() if now is None else now
    start, end = _window(window, now)
    retry_after = max(end - int(now), 1)
    if amount > limit:
        return Allowance(False, peek(key, limit=limit, window=window, now=now).count, limit, retry_after)
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_UPSERT_WITHIN.format(table=table), [_hash(key), start, end, amount, limit])
        row = cursor.fetchone()
    if row is None:  # the update's condition failed: nothing was counted
        return Allowance(False, peek(key, limit=limit, window=window, now=now).count, limit, retry_after)
    return Allowance(allowed=True, count=int(row[0]), limit=limit, retry_after=retry_after)


def peek(key: str, *, limit: int, window: int, now: float | None = None) -> Allowance:
    """The count so far in the current window, counting nothing."""
    now = time.time() if now is None else now
    start, end = _window(window, now)
    count = (
        RateCount.objects.filter(key_hash=_hash(key), window_start=start).values_list("count", flat=True).first() or 0
    )
    return Allowance(allowed=count < limit, count=count, limit=limit, retry_after=max(end - int(now), 1))


def forget(key: str, *, window: int, now: float | None = None) -> None:
    """Clear the key's count in the current window (a successful login clears its failures)."""
    now = time.time() if now is None else now
    start, _ = _window(window, now)
    RateCount.objects.filter(key_hash=_hash(key), window_start=start).delete()


def purge(now: float | None = None) -> int:
    """Delete the counts of windows that have ended."""
    now = time.time() if now is None else now
    deleted, _ = RateCount.objects.filter(window_end__lt=int(now)).delete()
    return deleted
