"""NUL characters are refused in every text a request carries: PostgreSQL cannot store or compare them.

On PostgreSQL a NUL that reaches a query is a server error; on SQLite it is stored and
shown. Both now answer 400 with a message in the caller's language, and nothing changes.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.people.models import Resident
from firstline.people.tests.test_views import resident_form_data
from firstline.status.models import CheckIn


def checkin(world, **changes) -> str:
    body = {
        "client_id": str(uuid.uuid4()),
        "resident": world.resident_a1.code,
        "temperature": 36.6,
        "symptoms": [],
        "taken_at": timezone.now().replace(microsecond=0).isoformat(),
    }
    return json.dumps({**body, **changes})


def test_a_nul_in_a_json_body_is_refused_in_the_callers_language_and_nothing_is_stored(world, client):
    token = do_issue_token(world.grid_worker)
    answers = {
        language: client.post(
            "/api/v1/checkins",
            checkin(world, note="发热\u0000"),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        for language in ("en", "zh-hans")
    }
    assert {answer.status_code for answer in answers.values()} == {400}
    assert "NUL" in answers["en"].json()["detail"] and "控制字符" in answers["zh-hans"].json()["detail"]
    assert not CheckIn.objects.exists()


def test_a_literal_backslash_u0000_typed_as_text_is_not_a_nul(world, client):
    token = do_issue_token(world.grid_worker)
    answer = client.post(
        "/api/v1/checkins",
        checkin(world, note="\\u0000"),  # the six characters, escaped in JSON as "\\u0000"
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 201, answer.content
    assert CheckIn.objects.get().note == "\\u0000"


def test_a_nul_in_a_query_string_or_a_form_is_refused_and_nothing_changes(world, login):
    client = login(world.admin)
    residents = reverse("people:residents", kwargs={"community": world.community.code})
    listing = client.get(residents, {"q": "张\u0000"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert listing.status_code == 400 and "控制字符" in listing.content.decode()

    resident = world.resident_a1
    edit = reverse("people:resident_edit", kwargs={"code": resident.code})
    data = resident_form_data(resident, name="张\u0000三")
    form = "application/x-www-form-urlencoded"  # as a browser sends a form
    saved = client.post(edit, urlencode(data), content_type=form, HTTP_ACCEPT_LANGUAGE="en")
    assert saved.status_code == 400 and "NUL" in saved.content.decode()
    # a multipart form is left to its fields, whose validators refuse a NUL next to the field
    multipart = client.post(edit, data, HTTP_ACCEPT_LANGUAGE="en")
    assert multipart.status_code == 200 and "Null characters are not allowed." in multipart.content.decode()
    assert Resident.objects.get(pk=resident.pk).name == resident.name
