"""ID numbers and phones typed into free text (a note, a name, a reason) are refused: in forms, the API
and imports, with a message; what is shown again is masked, nothing is stored.

The attack: notes and a name column held ID numbers and phones in clear, neither
sealed nor masked.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.conftest import make_id_number
from firstline.people.importing.columns import field_for_header
from firstline.people.importing.parse import RowParser
from firstline.people.models import Resident
from firstline.sealing import holds_personal_number, mask_personal_numbers
from firstline.status.models import CheckIn
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task

ID = make_id_number("420102", date(1990, 3, 7), 123)
MOBILE = "13812345678"


@pytest.mark.parametrize(
    "text",
    [
        f"联系人{ID}",
        f"身份证 {ID[:6]} {ID[6:14]} {ID[14:]}",
        f"身份证：{ID[:6]}-{ID[6:14]}-{ID[14:]}",
        f"电话{MOBILE}，晚上打",
        "手机 138 1234 5678",
        "+86 138-1234-5678",
        f"{ID[:-1]}x",
    ],
)
def test_the_detector_finds_id_numbers_and_mobiles_written_every_usual_way(text):
    assert holds_personal_number(text)
    masked = mask_personal_numbers(text)
    assert not holds_personal_number(masked)
    assert ID[:14] not in masked.replace(" ", "").replace("-", "") and "1234 5678" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "G1234 次 5 车 12F",
        "2020-01-23 从武汉返回",
        "3栋2单元501室",
        "体温 37.3，居家观察 14 天",
        "0571-88886666",
        "K7P3-Q9MX",
    ],
)
def test_ordinary_notes_pass(text):
    assert not holds_personal_number(text)


def test_a_form_refuses_a_note_holding_an_id_number_shows_it_masked_and_saves_nothing(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    before = Resident.objects.count()
    response = client.post(
        url,
        {
            "name": "张小三",
            "id_type": "resident_id",
            "relation_to_head": "child",
            "person_type": "registered",
            "notes": f"他妈妈的身份证{ID}，电话{MOBILE}",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"notes"}
    html = response.content.decode()
    assert "像身份证号或手机号" in html
    assert ID not in html and MOBILE not in html  # shown again masked
    assert ID[-4:] in html and 'value="张小三"' in html  # what else was typed is kept
    assert Resident.objects.count() == before


def test_a_name_holding_a_phone_is_refused_too(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    response = client.post(url, {"name": f"王五{MOBILE}", "id_type": "resident_id", "relation_to_head": "child"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert not Resident.objects.filter(name__startswith="王五").exists()


def test_the_api_refuses_a_check_in_note_holding_a_phone_with_422(world, client):
    answer = client.post(
        "/api/v1/checkins",
        {
            "client_id": "7d7c9b7e-9a43-4f0e-a0c2-4d4b9c4c0d11",
            "resident": world.resident_a1.code,
            "temperature": 36.6,
            "symptoms": [],
            "taken_at": timezone.now().isoformat(),
            "note": f"家属电话 {MOBILE}",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {do_issue_token(world.grid_worker)}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert answer.status_code == 422
    assert "像身份证号或手机号" in str(answer.json()["detail"])
    assert MOBILE not in answer.content.decode()
    assert not CheckIn.objects.exists()


def test_the_api_refuses_a_task_note_holding_an_id_number(world, client):
    task = open_task(Task.Kind.CALL, resident=world.resident_a1)
    answer = client.post(
        f"/api/v1/tasks/{task.code}/done",
        {"note": f"已核实，证件号{ID}"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {do_issue_token(world.grid_worker)}",
    )
    assert answer.status_code == 422 and ID not in answer.content.decode()
    task.refresh_from_db()
    assert task.is_open


def test_an_imported_note_holding_a_phone_is_a_problem_of_its_row_kept_masked():
    cells = {"姓名": "李四", "身份证号": ID, "备注": f"紧急联系人 {MOBILE}"}
    header = [(position, text, field_for_header(text)) for position, text in enumerate(cells)]
    row = RowParser(header, date(2026, 12, 7)).parse(2, list(cells.values()))
    assert row is not None
    assert [problem.code for problem in row.problems] == ["number_in_text"]
    assert row.problems[0].column == "备注"
    assert MOBILE not in repr(row.problems) and MOBILE not in repr(row.fields) and MOBILE not in repr(row.raw)
    assert "5678" in row.problems[0].value
