"""What the server writes to its log: one line per message, control characters escaped, no traceback for a 403."""

from __future__ import annotations

import io
import logging

import pytest
from django.urls import reverse

from firstline.serving import ClientErrorsWithoutTraceback


@pytest.fixture
def console():
    """The console handler as settings.LOGGING configures it, writing to a buffer."""
    handlers = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    assert len(handlers) == 1
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)


def test_a_denied_request_is_one_log_line_without_a_traceback(world, login, console):
    response = login(world.grid_worker).get(reverse("accounts:team", kwargs={"community": world.community.code}))
    assert response.status_code == 403
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0] and "Traceback" not in console.getvalue()


def test_a_path_with_newlines_is_logged_on_one_line_escaped(client, console):
    response = client.get("/nowhere%0a2026-12-07 06:00:00,000 INFO forged%0dline%1b[31m")
    assert response.status_code == 404
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "forged" in lines[0] and not any(ord(ch) < 32 or ord(ch) == 127 for ch in lines[0])


def test_control_characters_in_any_message_are_escaped(console):
    logging.getLogger("firstline.anything").warning("bad input %s", "line\nforged\x1b[2J\x85")
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith("bad input line\\x0aforged\\x1b[2J\\x85")


def test_a_server_error_keeps_its_traceback():
    handler_filter = ClientErrorsWithoutTraceback()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), sys.exc_info()
        )
    record.status_code = 500
    assert handler_filter.filter(record) and record.exc_info is not None
