"""The status section of the resident page: the colour, its open facts, the buttons, the history.

Buttons post with htmx and get the section back; a refused action shows its message
and changes nothing (the rows and the audit log are compared before and after).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from firstline.audit.models import AuditEvent
from firstline.people.models import Status
from firstline.status.actions import do_order_isolation, do_record_checkin, do_record_gate_reading, open_isolation
from firstline.status.models import CheckIn, IsolationOrder, Observation, Reason, Referral, StatusChange
from firstline.tasks.models import Task

HTMX = {"HX-Request": "true"}


def resident_url(world) -> str:
    return reverse("people:resident", kwargs={"code": world.resident_a1.code})


def snapshot() -> dict:
    """Every row the status actions write, and the audit events of writes."""
    return {
        "orders": list(IsolationOrder.objects.order_by("pk").values()),
        "observations": list(Observation.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values()),
        "checkins": list(CheckIn.objects.order_by("pk").values()),
        "changes": list(StatusChange.objects.order_by("pk").values()),
        "tasks": list(Task.objects.order_by("pk").values()),
        "audit": list(AuditEvent.objects.exclude(action__in=["read", "login"]).order_by("pk").values("pk")),
    }


def section(response) -> str:
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="status-section"' in html
    return html


def test_it_shows_the_colour_the_open_facts_and_the_history(world, login):
    zhang = world.resident_a1
    do_order_isolation(world.admin, zhang, note="密切接触者")
    do_record_gate_reading(world.grid_worker, zhang, "38.0")  # a referral; still red (isolation is stricter)
    do_record_checkin(world.grid_worker, zhang, client_id=None, temperature="36.9", symptoms=["cough"])

    html = section(login(world.grid_worker).get(resident_url(world)))

    assert 'id="resident-status" class="status red">居家隔离<' in html
    order = IsolationOrder.objects.get()
    assert f'id="isolation-{order.code}"' in html and "还剩14天" in html and "密切接触者" in html
    assert order.planned_end.strftime("%Y-%m-%d") in html
    referral = Referral.objects.get()
    block = html[html.index(f'id="referral-{referral.code}"') :]
    assert "发热门诊" in block and "已申请" in block
    for label in ("转运中", "已到达", "阴性", "阳性", "收治入院", "已返家"):
        assert f">{label}</button>" in block, label
    assert "健康 → " in re.sub(r"<[^>]+>", "", html) and "社区管理员" in html and "决定隔离" in html
    assert "38.0 °C" in html and "咳嗽" in html and "卡口" in html


def test_an_observation_shows_its_streak(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "37.6")
    Referral.objects.update(closed_at=timezone.now(), state="outcome", outcome="negative")
    for hours in (1, 2):
        with time_machine.travel(timezone.now() + timedelta(hours=hours)):
            do_record_checkin(world.grid_worker, world.resident_a1, client_id=None, temperature="36.5")

    html = section(login(world.grid_worker).get(resident_url(world)))

    assert "连续正常打卡：2/7" in html


def test_a_checkin_with_htmx_answers_with_the_section_and_the_new_colour(world, login):
    response = login(world.grid_worker).post(
        reverse("screening:checkin_new", kwargs={"code": world.resident_a1.code}),
        {"temperature": "38.3", "client_id": uuid.uuid4()},
        headers=HTMX,
    )

    html = section(response)
    assert 'id="resident-status" hx-swap-oob="true" class="status yellow">医学观察<' in html
    assert "打卡已记录。" in html and "发热门诊" in html
    checkin = CheckIn.objects.get()
    assert (checkin.source, checkin.recorded_by) == ("worker", world.grid_worker)


def test_refer_and_order_isolation(world, login):
    client = login(world.grid_worker)
    code = world.resident_a1.code

    section(
        client.post(
            reverse("screening:referral_new", kwargs={"code": code}),
            {"destination": "testing", "reason": "symptoms", "facility": "区疾控中心", "note": "咳嗽三天"},
            headers=HTMX,
        )
    )
    section(
        client.post(
            reverse("screening:isolation_new", kwargs={"code": code}),
            {"kind": "central", "site": "如家酒店隔离点"},
            headers=HTMX,
        )
    )

    referral = Referral.objects.get()
    assert (referral.destination, referral.facility, referral.requested_by) == (
        "testing",
        "区疾控中心",
        world.grid_worker,
    )
    order = IsolationOrder.objects.get()
    assert (order.kind, order.site) == ("central", "如家酒店隔离点")
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == Status.OUT  # central isolation is away from the household


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("screening:isolation_new", {"kind": "central", "site": ""}, "请填写该居民的隔离地点。"),
        (
            "screening:referral_new",
            {"destination": "fever_clinic", "reason": "fever"},
            "该居民已有一个送往该处、尚未结束的转诊。",
        ),
        ("screening:checkin_new", {"temperature": "3x", "client_id": uuid.UUID(int=1)}, "体温请填写数字，例如 36.5。"),
    ],
)
def test_a_refused_form_shows_the_message_and_changes_nothing(world, login, name, data, message):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.0")  # an open fever-clinic referral
    before = snapshot()

    html = section(
        login(world.grid_worker).post(reverse(name, kwargs={"code": world.resident_a1.code}), data, headers=HTMX)
    )

    assert 'role="alert"' in html and message in html
    assert snapshot() == before


def test_release_before_the_end_is_refused_with_the_reason_and_changes_nothing(world, login):
    order = do_order_isolation(world.admin, world.resident_a1)
    before = snapshot()
    url = reverse("screening:isolation_release", kwargs={"code": order.code})

    html = section(login(world.grid_worker).post(url, {"note": "想提前解除"}, headers=HTMX))

    assert f"隔离期至{order.planned_end:%Y-%m-%d}届满，届满前不能解除隔离。" in html
    assert 'class="status red"' in html
    assert snapshot() == before


def test_release_without_htmx_goes_back_with_the_message(world, login):
    order = do_order_isolation(world.admin, world.resident_a1)
    client = login(world.grid_worker)

    response = client.post(reverse("screening:isolation_release", kwargs={"code": order.code}), follow=True)

    assert response.redirect_chain == [(resident_url(world), 302)]
    assert "届满前不能解除隔离" in response.content.decode()
    order.refresh_from_db()
    assert order.is_open


def test_release_after_the_period_turns_the_resident_green(world, login):
    with time_machine.travel(timezone.now() - timedelta(days=15)):
        order = open_isolation(world.resident_a1, reason=Reason.ISOLATION_ORDERED, actor=world.admin)

    html = section(
        login(world.grid_worker).post(
            reverse("screening:isolation_release", kwargs={"code": order.code}), {"note": "期满"}, headers=HTMX
        )
    )

    assert "已解除隔离。" in html and 'class="status green"' in html
    order.refresh_from_db()
    assert (order.released_by, order.release_note) == (world.grid_worker, "期满")


def test_extend_later_is_kept_and_earlier_is_refused(world, login):
    order = do_order_isolation(world.admin, world.resident_a1)
    client = login(world.grid_worker)
    url = reverse("screening:isolation_extend", kwargs={"code": order.code})
    planned = order.planned_end

    refused = section(client.post(url, {"until": planned - timedelta(days=1), "reason": "复查"}, headers=HTMX))
    assert "延期后的解除日期须晚于当前计划解除日期。" in refused
    order.refresh_from_db()
    assert order.planned_end == planned

    section(client.post(url, {"until": planned + timedelta(days=7), "reason": "复查阳性密接"}, headers=HTMX))
    order.refresh_from_db()
    assert order.planned_end == planned + timedelta(days=7) and order.extensions[0]["reason"] == "复查阳性密接"


def test_referral_steps_move_the_colour(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.0")
    referral = Referral.objects.get()
    client = login(world.grid_worker)
    url = reverse("screening:referral_update", kwargs={"code": referral.code})

    assert 'class="status blue"' in section(client.post(url, {"state": "in_transit"}, headers=HTMX))
    html = section(client.post(url, {"state": "outcome", "outcome": "admitted"}, headers=HTMX))
    assert ">已返家</button>" in html and ">阴性</button>" not in html  # after admission: the return home
    refused = section(client.post(url, {"state": "outcome", "outcome": "negative"}, headers=HTMX))
    assert "收治入院之后，下一步只能是返家。" in refused
    html = section(client.post(url, {"state": "outcome", "outcome": "returned_home"}, headers=HTMX))
    assert 'class="status yellow"' in html  # home again, still under observation


def test_an_observation_ends_early_only_with_a_reason(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "37.4")
    Referral.objects.update(closed_at=timezone.now(), state="outcome", outcome="negative")
    observation = Observation.objects.get()
    client = login(world.grid_worker)
    url = reverse("screening:observation_close", kwargs={"code": observation.code})

    assert "请填写结束医学观察的原因。" in section(client.post(url, {"note": ""}, headers=HTMX))
    assert 'class="status green"' in section(client.post(url, {"note": "体温计故障"}, headers=HTMX))


def test_the_viewer_sees_no_buttons_and_every_write_is_refused(world, login):
    order = do_order_isolation(world.admin, world.resident_a1)
    do_record_gate_reading(world.admin, world.resident_a1, "38.0")
    referral = Referral.objects.get()
    client = login(world.viewer)

    html = section(client.get(resident_url(world)))
    assert "<button" not in html.split('id="status-section"')[1].split("</section>")[0]

    before = snapshot()
    code = world.resident_a1.code
    writes = [
        (reverse("screening:checkin_new", kwargs={"code": code}), {"temperature": "36.5", "client_id": uuid.uuid4()}),
        (reverse("screening:referral_new", kwargs={"code": code}), {"destination": "testing", "reason": "fever"}),
        (reverse("screening:isolation_new", kwargs={"code": code}), {"kind": "home"}),
        (reverse("screening:isolation_release", kwargs={"code": order.code}), {}),
        (reverse("screening:isolation_extend", kwargs={"code": order.code}), {"until": "2099-01-01", "reason": "x"}),
        (reverse("screening:referral_update", kwargs={"code": referral.code}), {"state": "in_transit"}),
    ]
    for url, data in writes:
        assert client.post(url, data, headers=HTMX).status_code == 403, url
    assert snapshot() == before


def test_the_other_grid_worker_gets_404_and_changes_nothing(world, login):
    order = do_order_isolation(world.admin, world.resident_a1)
    before = snapshot()
    client = login(world.other_worker)

    assert client.get(resident_url(world)).status_code == 404
    url = reverse("screening:isolation_release", kwargs={"code": order.code})
    assert client.post(url, headers=HTMX).status_code == 404
    assert snapshot() == before


def test_the_resident_page_stays_at_a_constant_number_of_queries(world, login, django_assert_num_queries):
    do_order_isolation(world.admin, world.resident_a1)
    client = login(world.grid_worker)
    url = resident_url(world)
    client.get(url)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = count()
    for hours in range(1, 21):
        do_record_checkin(
            world.grid_worker, world.resident_a1, client_id=None, temperature="36.5",
            taken_at=timezone.now() - timedelta(hours=hours),
        )  # fmt: skip
    assert count() == first
