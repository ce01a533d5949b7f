"""Every page of the worker's screens speaks Chinese by default (and English on request)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from firstline.conftest import make_user
from firstline.status.actions import do_order_isolation, do_record_gate_reading, do_register_arrival
from firstline.status.models import RiskArea
from firstline.tasks.actions import escalate_overdue, open_task
from firstline.tasks.models import Task
from firstline.tests.test_translations import latin_words


def test_the_worker_pages_are_in_chinese(world, login):
    RiskArea.objects.create(street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1))
    zhang = world.resident_a1
    arrival = do_register_arrival(world.admin, {"origin": "武汉", "trip_no": "G1"}, resident=zhang)
    do_record_gate_reading(world.admin, zhang, "38.2")
    do_order_isolation(world.admin, world.resident_a2, kind="central", site="如家酒店")
    task = Task.objects.get(kind=Task.Kind.FEVER)
    escalated = open_task(Task.Kind.CALL, resident=zhang, note="电话")
    Task.objects.filter(pk=escalated.pk).update(due_at=task.due_at.replace(year=2020))
    escalate_overdue()
    officer = make_user("officer", "street_officer", world.street, "街道干部")
    code = zhang.code
    pages = {
        world.grid_worker: [
            reverse("tasks:inbox"),
            reverse("tasks:task", kwargs={"code": task.code}),
            reverse("tasks:task_new", kwargs={"code": code}),
            reverse("people:resident", kwargs={"code": code}),
            reverse("screening:checkin_new", kwargs={"code": code}),
            reverse("screening:referral_new", kwargs={"code": code}),
            reverse("screening:isolation_new", kwargs={"code": code}),
            reverse("screening:arrival_new", kwargs={"community": world.community.code}),
            reverse("screening:arrival", kwargs={"community": world.community.code, "code": arrival.movement.code}),
        ],
        world.admin: [
            reverse("tasks:team"),
            reverse("tasks:inbox"),
            reverse("screening:community_rules", kwargs={"community": world.community.code}),
            reverse("screening:risk_areas", kwargs={"street": world.street.code}),
            reverse("people:resident", kwargs={"code": world.resident_a2.code}),
        ],
        officer: [reverse("screening:risk_areas", kwargs={"street": world.street.code})],
    }
    for user, urls in pages.items():
        client = login(user)
        for url in urls:
            response = client.get(url)
            page = response.content.decode()
            assert response.status_code == 200, url
            assert not latin_words(page), f"{url} shows English: {sorted(latin_words(page))}"


def test_the_inbox_switches_to_english(world, login):
    open_task(Task.Kind.MISSED_CHECKIN, resident=world.resident_a1)
    client = login(world.grid_worker)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    page = client.get(reverse("tasks:inbox")).content.decode()

    assert "My tasks" in page and "missed check-in" in page and "due in 24 hours" in page
    assert "我的任务" not in page
