"""The street's risk areas and a community's screening rules: who keeps them, who reads them, what is audited."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from firstline.audit.models import AuditEvent
from firstline.conftest import make_user
from firstline.places.models import Community, Street
from firstline.status.actions import do_register_arrival
from firstline.status.models import CommunityRules, RiskArea
from firstline.status.rules import rules_for


@pytest.fixture
def officer(world):
    return make_user("officer", "street_officer", world.street, "街道干部")


def areas_url(street) -> str:
    return reverse("screening:risk_areas", kwargs={"street": street.code})


def rules_url(community) -> str:
    return reverse("screening:community_rules", kwargs={"community": community.code})


def test_the_street_officer_adds_a_risk_area_and_arrivals_from_it_are_isolated(world, login, officer):
    response = login(officer).post(
        areas_url(world.street),
        {"name": "湖北省 武汉市", "keywords": "武汉，汉口", "active_from": "2020-01-23"},
    )

    assert response.status_code == 302
    area = RiskArea.objects.get()
    assert (area.name, area.street, area.added_by, area.active_until) == ("湖北省 武汉市", world.street, officer, None)
    assert AuditEvent.objects.filter(action="create", object_code=area.code, actor=officer).exists()
    result = do_register_arrival(world.admin, {"origin": "汉口"}, resident=world.resident_a1)
    assert result.risk_area == area and result.order is not None


def test_the_same_area_twice_is_refused(world, login, officer):
    client = login(officer)
    client.post(areas_url(world.street), {"name": "湖北省武汉市"})

    response = client.post(areas_url(world.street), {"name": "湖北省武汉市"})

    assert response.status_code == 200 and "该地区已在疫区名单中。" in response.content.decode()
    assert RiskArea.objects.count() == 1


def test_ending_an_area_stops_isolating_its_arrivals_from_today(world, login, officer):
    area = RiskArea.objects.create(street=world.street, name="湖北省武汉市", active_from=date(2020, 1, 1))

    response = login(officer).post(
        reverse("screening:risk_area_end", kwargs={"street": world.street.code, "code": area.code}), follow=True
    )

    area.refresh_from_db()
    assert area.active_until == timezone.localdate() - timedelta(days=1)
    assert "已不再是疫区" in response.content.decode()
    assert AuditEvent.objects.filter(action="update", object_code=area.code, reason="end").exists()
    assert do_register_arrival(world.admin, {"origin": "武汉"}, resident=world.resident_a1).order is None


def test_a_community_admin_reads_the_list_but_may_not_change_it(world, login):
    area = RiskArea.objects.create(street=world.street, name="湖北省武汉市", active_from=date(2020, 1, 1))
    client = login(world.admin)

    page = client.get(areas_url(world.street))
    assert page.status_code == 200 and "湖北省武汉市" in page.content.decode() and "生效中" in page.content.decode()
    assert "<form" not in page.content.decode().split("<main>")[1]
    assert client.post(areas_url(world.street), {"name": "湖北省孝感市"}).status_code == 403
    end = reverse("screening:risk_area_end", kwargs={"street": world.street.code, "code": area.code})
    assert client.post(end).status_code == 403
    area.refresh_from_db()
    assert RiskArea.objects.count() == 1 and area.active_until is None


def test_grid_personas_get_403_and_another_streets_people_404(world, login):
    other_street = Street.objects.create(name="另一街道")
    stranger = make_user("stranger", "street_officer", other_street)

    for persona in ("grid_worker", "viewer", "other_worker"):
        assert login(getattr(world, persona)).get(areas_url(world.street)).status_code == 403
    assert login(stranger).get(areas_url(world.street)).status_code == 404
    assert login(stranger).post(areas_url(world.street), {"name": "湖北省武汉市"}).status_code == 404
    assert not RiskArea.objects.exists()


def test_the_community_rules_show_the_defaults_and_keep_the_communitys_own_values(world, login):
    client = login(world.admin)

    page = client.get(rules_url(world.community)).content.decode()
    assert 'placeholder="14"' in page and "不填则使用默认值：37.3。" in page

    response = client.post(rules_url(world.community), {"isolation_days": "21", "fever_threshold": "37.5"})

    assert response.status_code == 302
    rules = rules_for(world.community.id)
    assert (rules.isolation_days, rules.fever_threshold, rules.observation_checkins) == (21, Decimal("37.5"), 7)
    event = AuditEvent.objects.get(action="update", reason="rules")
    assert sorted(event.detail["fields"]) == ["fever_threshold", "isolation_days"]
    assert event.community_id == world.community.id

    client.post(rules_url(world.community), {"isolation_days": "", "fever_threshold": "37.5"})
    assert rules_for(world.community.id).isolation_days == 14  # empty: back to the default


def test_a_rule_out_of_range_is_refused_and_nothing_is_saved(world, login):
    response = login(world.admin).post(rules_url(world.community), {"isolation_days": "200"})

    assert response.status_code == 200 and "请填写1至60之间的数值。" in response.content.decode()
    assert not CommunityRules.objects.exists()
    assert not AuditEvent.objects.filter(reason="rules").exists()


def test_the_rules_page_is_closed_to_grid_personas_and_to_other_communities(world, login):
    other = Community.objects.create(street=world.street, name="另一社区")
    admin_elsewhere = make_user("admin_b", "community_admin", other)

    for persona in ("grid_worker", "viewer", "other_worker"):
        assert login(getattr(world, persona)).get(rules_url(world.community)).status_code == 403
    assert login(admin_elsewhere).get(rules_url(world.community)).status_code == 404
    assert login(admin_elsewhere).post(rules_url(world.community), {"isolation_days": "3"}).status_code == 404
    assert not CommunityRules.objects.exists()
