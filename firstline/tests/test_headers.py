"""Headers every answer carries: a Content-Security-Policy that runs scripts from this site's files only,
and a Permissions-Policy that leaves the camera to this site's pages only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import firstline


@pytest.mark.parametrize("url", ["/accounts/login/", "/checkin/", "/api/v1/residents", "/static/gates/gate-app.js"])
def test_every_answer_carries_a_permissions_policy(db, client, url):
    response = client.get(url)
    policy = response["Permissions-Policy"]
    assert "camera=(self)" in policy and "geolocation=()" in policy and "microphone=()" in policy


@pytest.mark.parametrize("url", ["/accounts/login/", "/checkin/", "/api/v1/residents", "/static/gates/gate-app.js"])
def test_every_answer_carries_a_content_security_policy_without_inline_scripts(db, client, url):
    policy = dict(
        part.strip().split(" ", 1) for part in client.get(url)["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other site
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"


TEMPLATES = sorted(Path(firstline.__file__).parent.glob("**/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(path.parents[2])))
def test_no_template_holds_an_inline_script_a_handler_or_a_javascript_link(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text)
    assert not HANDLER.search(text)
    assert "javascript:" not in text.lower()


def test_the_api_docs_load_under_the_policy(db, client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "script-src 'self';" in page["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(page.content.decode())  # its settings are a JSON data block
