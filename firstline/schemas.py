"""Types shared by the API's schemas.

``Moment`` is a timestamp that carries its offset (``2026-12-07T09:30:00+08:00`` or
``…Z``). A time without one could be any of 24 hours: the API refuses it (422) with a
message in the caller's language rather than guess the deployment's time zone. Offline
scans and visits are the exception: sent in batches, a scan without its offset is
refused on its own (``bad_time``) and the rest of the batch is kept.

``holds_nul`` says whether parsed JSON holds a NUL character in any string (key or
value): PostgreSQL cannot store one (see ``firstline.middleware``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import AfterValidator

from firstline.forms import NUMBER_IN_TEXT
from firstline.sealing import holds_personal_number


def _with_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(_("Send the time with its time zone, e.g. 2026-12-07T09:30:00+08:00."))
    return value


Moment = Annotated[datetime, AfterValidator(_with_offset)]


def _no_personal_number(value: str) -> str:
    if holds_personal_number(value):
        raise ValueError(str(NUMBER_IN_TEXT))
    return value


# Free text (a note, a reason, a name): refused with 422 when it holds an ID number or a phone.
FreeText = Annotated[str, AfterValidator(_no_personal_number)]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def holds_nul(value: Any) -> bool:
    return any("\x00" in text for text in _strings(value))
