"""What the server logs and how: control characters escaped, client errors without a traceback.

- ``AccessLogger`` is gunicorn's logger with every access-log atom escaped: a path
  with ``%0a`` (PATH_INFO is decoded) or a method with control bytes cannot start a
  forged line in the access log.
- ``EscapeControlCharacters`` does the same for every message on the console
  handler (``django.request`` and ``django.security`` log the request path).
- ``ClientErrorsWithoutTraceback``: a 4xx (a 403 for a denied request, a 400 for a
  bad host) is one log line; the traceback is for the server's own errors.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_control(text: str) -> str:
    """Every control character (and the Unicode line separators) as ``\\xNN``/``\\uNNNN``."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: escape_control(value) if isinstance(value, str) else value for key, value in atoms.items()}


class EscapeControlCharacters(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_control(message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return True


class ClientErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info, record.exc_text = None, None
        return True
