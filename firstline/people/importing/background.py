"""Read a sheet in a child process while this one plans the import: both cores of a small server work.

``reading(path, filename)`` forks a child that parses the file (``parse.open_sheet``,
the very parser ``read_sheet`` runs) and sends the parsed rows back through a pipe,
``CHUNK`` at a time. It yields a ``BackgroundSheet`` as soon as the child has found
the header row (or raises ``UnreadableFile`` as ``read_sheet`` would); the planner
takes the rows with ``sheet.chunks()`` while the child parses the rest, so reading a
100,000-row file and sealing and planning its rows overlap instead of following
each other.

The child only parses, and leaves every decision to the parent: it never touches
the database (the parent may hold an open transaction on the connection the child
inherits) and never seals (the keys stay with the process that writes; and pure
Python parsing, unlike OpenSSL, is safe in a child forked from the threaded job
consumer). It cannot outlive its use: leaving the ``with`` block kills and reaps
it, and if the parent dies (even by SIGKILL) the pipe breaks and the child's next
send ends it. An error in the child comes back as an exception in the parent
(``UnreadableFile`` and ``OSError`` as themselves, anything else as
``ReaderFailed``); a child that dies without a word does too.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.utils import timezone

from firstline.people.importing.parse import ParsedRow, ParsedSheet, UnreadableFile, open_sheet, read_sheet

CHUNK = 2000  # rows per message


class ReaderFailed(RuntimeError):
    """The child reading the file failed; the message says where and what kind of error, not its text."""


@dataclass
class BackgroundSheet(ParsedSheet):
    """A ``ParsedSheet`` whose rows arrive from the child: ``rows`` grows as ``chunks()`` is iterated.

    ``expected`` is about how many rows the sheet has (for a progress bar), before they are counted.
    Rows carry their cell text (``raw``) only when asked for (the preview shows it; an import does not).
    """

    expected: int = 0
    pipe: Connection | None = field(default=None, repr=False)

    def chunks(self, size: int = CHUNK) -> Iterator[list[ParsedRow]]:
        if self.pipe is None:  # read to the end already
            yield from super().chunks(size)
            return
        while True:
            kind, payload = _receive(self.pipe)
            if kind == "done":
                self.pipe = None
                return
            rows = [ParsedRow(number, fields, raw, problems) for number, fields, raw, problems in payload]
            self.rows.extend(rows)
            yield rows


def _receive(pipe: Connection) -> tuple[str, Any]:
    """The payload of the child's next message, or its error raised here."""
    try:
        kind, payload = pipe.recv()
    except EOFError:
        raise ReaderFailed("the process reading the file stopped without a word") from None
    if kind == "unreadable":
        raise UnreadableFile(*payload)
    if kind == "oserror":
        raise OSError(*payload)
    if kind == "error":
        raise ReaderFailed(f"reading the file failed: {payload}")
    return kind, payload


@contextlib.contextmanager
def reading(
    path: str | Path, filename: str | None = None, *, today: date | None = None, raw: bool = False
) -> Iterator[BackgroundSheet]:
    """Parse ``path`` in a child process; see the module. Raises ``UnreadableFile`` as ``read_sheet``.

    Where a child cannot be forked (no ``fork`` on this system, or this process is itself a
    daemonic worker, which may not have children) the sheet is read here, before planning.
    """
    today = today or timezone.localdate()
    if not can_fork():
        sheet = read_sheet(path, filename, today=today)
        yield BackgroundSheet(sheet.filename, sheet.header_row, sheet.columns, sheet.rows, expected=len(sheet.rows))
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(receiver, sender, str(path), filename, today, raw),
        name="firstline-import-reader",
        daemon=True,
    )
    try:
        child.start()
    except BaseException:
        receiver.close()
        sender.close()
        raise
    sender.close()  # ours: the child's end alone keeps the pipe open, so its death is seen as EOF
    try:
        _kind, (filename, header_row, columns, expected) = _receive(receiver)
        yield BackgroundSheet(
            filename=filename, header_row=header_row, columns=columns, rows=[], expected=expected, pipe=receiver
        )
    finally:
        receiver.close()  # a child still sending gets a broken pipe and ends
        if child.is_alive():
            child.kill()
        child.join()
        child.close()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _child(receiver: Connection, sender: Connection, path: str, filename: str | None, today: date, raw: bool) -> None:
    receiver.close()  # the parent's end: held here too, the pipe would never break when the parent dies
    # No cyclic collection in this short life: it would only traverse the parsed rows (and the parent's
    # objects, copying their pages) to find nothing; everything is freed when the child exits.
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent; the broken pipe then stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the handler of the job consumer we were forked from
    try:
        try:
            sheet, rows, expected = open_sheet(path, filename, today=today)
            sender.send(("sheet", (sheet.filename, sheet.header_row, sheet.columns, expected)))
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append((row.row, row.fields, row.raw if raw else {}, row.problems))
                if len(chunk) == CHUNK:
                    sender.send(("rows", chunk))
                    chunk = []
            if chunk:
                sender.send(("rows", chunk))
            sender.send(("done", None))
        except UnreadableFile as error:
            sender.send(("unreadable", (error.message, error.code)))
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent is gone or no longer listening
        except OSError as error:  # the file vanished or may not be read: the parent raises it as its own
            sender.send(("oserror", (error.errno, error.strerror)))
        except BaseException as error:  # reported to the parent, which raises it
            # Where, and the kind of error, without its message: that could quote a cell.
            where = "".join(traceback.format_tb(error.__traceback__, limit=-8))
            sender.send(("error", f"{type(error).__name__}\n{where}"))
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        sender.close()
