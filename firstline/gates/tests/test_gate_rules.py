"""A community's own gate rules: kept by its administrators, checked, defaults where a box is left empty."""

from __future__ import annotations

from django.urls import reverse

from firstline.audit.models import AuditEvent
from firstline.gates.models import GateRules
from firstline.gates.rules import gate_rules_for


def test_an_admin_sets_the_outing_quota_and_the_scan_rules_follow(world, login):
    assert gate_rules_for(world.community.id).outing_hours == 2  # the deployment's default
    client = login(world.admin)
    url = reverse("duty:rules", kwargs={"community": world.community.code})
    page = client.get(url)
    assert page.status_code == 200 and "每户" in page.content.decode()

    response = client.post(url, {"outing_people": "2", "outing_every_days": "", "outing_hours": "4"})
    assert response.status_code == 302
    rules = gate_rules_for(world.community.id)
    assert (rules.outing_people, rules.outing_every_days, rules.outing_hours) == (2, 2, 4)
    assert AuditEvent.objects.filter(reason="gate_rules").count() == 1
    assert gate_rules_for(world.village.id).outing_hours == 2  # another community keeps the default


def test_a_value_out_of_range_is_refused_and_changes_nothing(world, login):
    client = login(world.admin)
    url = reverse("duty:rules", kwargs={"community": world.community.code})
    response = client.post(url, {"outing_people": "1", "outing_hours": "99"})
    assert response.status_code == 400
    assert "1" in response.content.decode() and "24" in response.content.decode()
    assert not GateRules.objects.exists()
    assert gate_rules_for(world.community.id).outing_hours == 2


def test_a_grid_worker_may_not_set_gate_rules(world, login):
    client = login(world.grid_worker)
    url = reverse("duty:rules", kwargs={"community": world.community.code})
    assert client.post(url, {"outing_hours": "4"}).status_code == 403
    assert not GateRules.objects.exists()
