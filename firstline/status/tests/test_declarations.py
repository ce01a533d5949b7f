"""Self-declarations from the gate's QR code, and the workers' queue.

Anyone may declare (no login). The community administrator handles the queue; the
grid worker, the viewer and the other grid's worker may not (declarations are
community-level: 403, nothing changed).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from firstline.audit.models import AuditEvent
from firstline.conftest import leaks, make_id_number
from firstline.people.actions import find_by_id_number
from firstline.people.models import Movement, Resident, Status
from firstline.sealing import blind_index, unseal
from firstline.status.declarations import do_accept_declaration, do_dismiss_declaration
from firstline.status.models import Declaration, IsolationOrder, RiskArea
from firstline.status.public_views import DECLARATIONS_PER_WINDOW
from firstline.tasks.models import Task

RETURNEE_ID = make_id_number("420102", date(1991, 4, 5), 31)
RETURNEE_PHONE = "13911112222"


@pytest.fixture
def wuhan(world):
    return RiskArea.objects.create(
        street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1)
    )


def form(**changes):
    today = timezone.localdate()
    data = {
        "name": "赵返乡",
        "id_type": "resident_id",
        "id_number": RETURNEE_ID,
        "phone": RETURNEE_PHONE,
        "address": "1栋1单元501 亲戚家",
        "origin": "湖北省武汉市江汉区",
        "departure_date": (today - timedelta(days=2)).isoformat(),
        "arrival_date": (today - timedelta(days=1)).isoformat(),
        "transport": "train",
        "trip_no": "G1234",
        "temperature": "36.5",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def declare(client, world, **changes):
    return client.post(reverse("public:declare_gate", kwargs={"gate": world.gate.code}), form(**changes))


def plain_columns() -> str:
    """Every text column of the declaration table, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM status_declaration")
        return " ".join(
            str(value) for row in cursor.fetchall() for value in row if not isinstance(value, bytes | memoryview)
        )


def test_a_returnee_from_a_risk_area_is_stored_sealed_and_the_community_gets_an_urgent_task(world, client, wuhan):
    response = declare(client, world)
    assert response.status_code == 302 and response["Location"] == reverse("public:declare_thanks")
    thanks = client.get(response["Location"]).content.decode()
    assert "您来自疫区" in thanks and "居家" in thanks

    declaration = Declaration.objects.get()
    assert declaration.from_risk_area and declaration.gate == world.gate and declaration.state == "new"
    assert unseal(declaration.id_number_sealed, "id_number") == RETURNEE_ID
    assert unseal(declaration.phone_sealed, "phone") == RETURNEE_PHONE
    assert declaration.id_number_masked == "*" * 14 + RETURNEE_ID[-4:]
    assert declaration.phone_masked == "139****2222"
    assert RETURNEE_ID not in plain_columns() and RETURNEE_PHONE not in plain_columns()
    assert not leaks(plain_columns())

    task = Task.objects.get(kind=Task.Kind.DECLARATION)
    assert task.urgent and task.level == "community" and task.assignee == world.admin
    assert task.community == world.community and task.resident is None
    assert "湖北省武汉市" in task.note and "赵返乡" not in task.note
    event = AuditEvent.objects.get(object_type="declaration")
    assert event.actor is None and RETURNEE_ID not in str(event.detail) and event.detail["from_risk_area"]


def test_an_ordinary_visitor_gets_a_plain_task_and_thanks(world, client, wuhan):
    declare(client, world, origin="广东省深圳市", temperature="")
    declaration = Declaration.objects.get()
    assert not declaration.from_risk_area and declaration.temperature is None
    assert not Task.objects.get(kind=Task.Kind.DECLARATION).urgent
    assert "社区工作人员会核实" in client.get(reverse("public:declare_thanks")).content.decode()


def test_a_fever_makes_the_task_urgent(world, client):
    declare(client, world, origin="广东省深圳市", temperature="38.0")
    assert Task.objects.get(kind=Task.Kind.DECLARATION).urgent
    assert "体温偏高" in client.get(reverse("public:declare_thanks")).content.decode()


def test_an_invalid_id_number_is_explained_and_nothing_is_stored(world, client):
    bad = RETURNEE_ID[:17] + ("0" if RETURNEE_ID[17] != "0" else "1")
    response = declare(client, world, id_number=bad)
    assert response.status_code == 200
    assert "证件号码无效" in response.content.decode() or "校验码" in response.content.decode()
    assert not Declaration.objects.exists() and not Task.objects.exists()


def test_a_passport_is_accepted_as_written(world, client):
    declare(client, world, id_type="passport", id_number="e 1234 5678", origin="香港")
    declaration = Declaration.objects.get()
    assert declaration.id_number_index == blind_index("E12345678", "id_number")


def test_the_community_page_takes_declarations_without_a_gate(world, client):
    response = client.post(reverse("public:declare_community", kwargs={"community": world.community.code}), form())
    assert response.status_code == 302
    assert Declaration.objects.get().gate is None


def test_declarations_are_limited_per_address(world, client):
    for _ in range(DECLARATIONS_PER_WINDOW):
        declare(client, world, origin="广东省深圳市")
    cache.clear()  # counted in the database, shared by every process: not in a process's cache
    refused = declare(client, world, origin="广东省深圳市")
    assert refused.status_code == 429
    assert Declaration.objects.count() == DECLARATIONS_PER_WINDOW


def test_a_declaration_is_matched_to_the_resident_with_the_same_id_number(world, client):
    declare(client, world, id_number=make_id_number(serial=123), origin="广东省深圳市")  # 张三's number
    assert Declaration.objects.get().resident == world.resident_a1


# --- the queue


def test_the_queue_shows_new_declarations_masked(world, client, login, wuhan):
    declare(client, world)
    page = login(world.admin).get(reverse("public:declarations", kwargs={"community": world.community.code}))
    body = page.content.decode()
    assert page.status_code == 200
    assert "赵返乡" in body and "**************" in body and "139****2222" in body and "来自疫区" in body


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_grid_personas_may_not_handle_declarations(world, client, login, persona, wuhan):
    declare(client, world)
    declaration = Declaration.objects.get()
    user = getattr(world, persona)
    worker = login(user)
    url = reverse("public:declaration", kwargs={"community": world.community.code, "code": declaration.code})
    assert worker.get(url).status_code == 403
    assert worker.post(url, {"action": "dismiss", "reason": "测试"}).status_code == 403
    declaration.refresh_from_db()
    assert declaration.state == "new" and Task.objects.get(kind="declaration").state == "open"


def test_accepting_a_new_person_registers_the_arrival_and_isolates_them(world, client, login, wuhan):
    declare(client, world)
    declaration = Declaration.objects.get()
    admin = login(world.admin)
    url = reverse("public:declaration", kwargs={"community": world.community.code, "code": declaration.code})
    page = admin.get(url, {"building": world.building_a1.code}).content.decode()
    assert world.household_a1.address in page

    response = admin.post(
        f"{url}?building={world.building_a1.code}",
        {"action": "accept", "household": world.household_a1.code, "id_type": "resident_id"},
    )
    resident = find_by_id_number(Resident.objects.all(), RETURNEE_ID).get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:resident", kwargs={"code": resident.code}
    )
    assert resident.name == "赵返乡" and resident.household == world.household_a1
    assert resident.phone_masked == "139****2222" and resident.birth_date == date(1991, 4, 5)
    movement = Movement.objects.get(resident=resident)
    assert movement.origin == "湖北省武汉市江汉区" and movement.trip_number == "G1234"
    assert IsolationOrder.objects.get(resident=resident).reason == "arrival_from_risk_area"
    assert resident.status == Status.HOME_ISOLATION
    declaration.refresh_from_db()
    assert (
        declaration.state == "accepted" and declaration.resident == resident and declaration.handled_by == world.admin
    )
    assert Task.objects.get(kind="declaration").state == "done"
    assert AuditEvent.objects.filter(object_type="declaration", action="update", reason="accepted").exists()


def test_accepting_a_matched_resident_registers_their_arrival(world, client, wuhan):
    declare(client, world, id_number=make_id_number(serial=123))
    declaration = Declaration.objects.get()
    result = do_accept_declaration(world.admin, declaration)
    assert result.resident == world.resident_a1 and not result.created and result.order is not None
    assert Resident.objects.count() == 2


def test_a_new_person_needs_a_household(world, client, wuhan):
    declare(client, world)
    declaration = Declaration.objects.get()
    with pytest.raises(ValidationError, match="household"):
        do_accept_declaration(world.admin, declaration)
    declaration.refresh_from_db()
    assert declaration.state == "new" and Resident.objects.count() == 2


def test_dismissing_needs_a_reason_and_closes_the_task(world, client, login):
    declare(client, world, origin="广东省深圳市")
    declaration = Declaration.objects.get()
    url = reverse("public:declaration", kwargs={"community": world.community.code, "code": declaration.code})
    admin = login(world.admin)
    assert "不予登记的原因" in admin.post(url, {"action": "dismiss", "reason": " "}).content.decode()
    declaration.refresh_from_db()
    assert declaration.state == "new"
    response = admin.post(url, {"action": "dismiss", "reason": "重复申报"})
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.state == "dismissed"
    task = Task.objects.get(kind="declaration")
    assert task.state == "done" and task.done_note == "重复申报"
    with pytest.raises(ValidationError, match="state"):
        do_dismiss_declaration(world.admin, declaration, "again")


def test_the_queue_costs_the_same_queries_for_one_declaration_or_many(world, client, login, wuhan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("public:declarations", kwargs={"community": world.community.code})
    declare(client, world)
    admin = login(world.admin)
    admin.get(url)
    with CaptureQueriesContext(connection) as one:
        admin.get(url)
    for serial in range(40, 44):
        declare(client, world, id_number=make_id_number("420102", date(1991, 4, 5), serial))
    with CaptureQueriesContext(connection) as five:
        page = admin.get(url)
    assert page.content.decode().count("data-declaration=") == 5
    assert len(five) == len(one)
