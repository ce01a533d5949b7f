"""Headers every answer carries: a Permissions-Policy that leaves the camera to this site's pages only."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("url", ["/accounts/login/", "/checkin/", "/api/v1/residents", "/static/gates/gate-app.js"])
def test_every_answer_carries_a_permissions_policy(db, client, url):
    response = client.get(url)
    policy = response["Permissions-Policy"]
    assert "camera=(self)" in policy and "geolocation=()" in policy and "microphone=()" in policy
