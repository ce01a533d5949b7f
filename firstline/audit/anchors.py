"""Anchors: the chain head, signed with the audit key, kept outside the database.

A head MAC alone can be replayed: whoever can write the database may save an older
head row and put it back after removing the newest events. An anchor is a copy of
the head (count, newest event id and digest, time) with an HMAC under a key derived
from ``FIRSTLINE_AUDIT_KEY``, appended as one JSON line to
``$DATA_DIR/audit/anchors.jsonl`` and, where configured, to a second file (a mounted
disk) and to a parent deployment (``FIRSTLINE_AUDIT_ANCHOR_URL``). ``verify`` checks
that every anchored event is still in the chain at its place with its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

FIELDS = ("count", "last_id", "last_digest", "at")


@dataclass
class Anchor:
    count: int
    last_id: int
    last_digest: str
    at: str
    source: str = ""
    line: int = 0
    problem: str = ""


def default_path() -> Path:
    return Path(settings.DATA_DIR) / "audit" / "anchors.jsonl"


def _mac(body: dict[str, Any]) -> str:
    from firstline.audit.log import derived_key

    text = json.dumps([body[name] for name in FIELDS], separators=(",", ":"))
    return hmac.new(derived_key("anchor"), text.encode(), hashlib.sha256).hexdigest()


def signed(count: int, last_id: int, last_digest: str, at: str) -> dict[str, Any]:
    body: dict[str, Any] = {"count": count, "last_id": last_id, "last_digest": last_digest, "at": at}
    body["mac"] = _mac(body)
    return body


def append(path: Path, body: dict[str, Any]) -> None:
    """Append one line in a single write to a file only the owner may read (0600)."""
    if path.is_dir():
        path = path / "anchors.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = (json.dumps(body, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def post(url: str, token: str, body: dict[str, Any], timeout: float = 10) -> int:
    """Send the anchor to a parent deployment; its HTTP status. Only http(s) URLs are followed."""
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError("the parent deployment URL must start with https://")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
        return int(response.status)


def read(path: Path) -> list[Anchor]:
    if path.is_dir():
        path = path / "anchors.jsonl"
    if not path.exists():
        return []
    anchors: list[Anchor] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
            anchor = Anchor(
                count=int(body["count"]),
                last_id=int(body["last_id"]),
                last_digest=str(body["last_digest"]),
                at=str(body["at"]),
                source=str(path),
                line=number,
            )
            valid = hmac.compare_digest(str(body.get("mac", "")), _mac(body))
        except (ValueError, KeyError, TypeError):
            anchor, valid = Anchor(0, 0, "", "", str(path), number), False
        if not valid:
            anchor.problem = _(
                "anchor line %(line)s in %(file)s is not valid (its signature does not match): "
                "it was changed or was not written with this audit key"
            ) % {"line": number, "file": path.name}
        anchors.append(anchor)
    return anchors


def read_all(also: list[str] | None = None) -> list[Anchor]:
    anchors = read(default_path())
    for extra in also or []:
        anchors.extend(read(Path(extra)))
    return anchors


def newest(path: Path | None = None) -> Anchor | None:
    valid = [anchor for anchor in read(path or default_path()) if not anchor.problem]
    return max(valid, key=lambda anchor: anchor.count) if valid else None
