from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.audit.models import AuditEvent
from firstline.people.models import Resident


def team_url(world) -> str:
    return reverse("accounts:team", kwargs={"community": world.community.code})


def grant_data(world, **changes) -> dict:
    ends = (timezone.localtime() + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "username": "worker_a2",
        "role": "grid_worker",
        "place": f"grid:{world.grid_a1.code}",
        "ends_at": ends,
        "reason": "网格员甲病休，临时顶班",
    }
    data.update(changes)
    return data


def test_it_lists_the_team_to_the_community_admin(world, login):
    response = login(world.admin).get(team_url(world))
    assert response.status_code == 200
    shown = {m.user.username for m in response.context["memberships"]}
    assert {"admin_a", "worker_a1", "viewer_a1", "worker_a2"} <= shown


def test_it_grants_a_temporary_role_that_opens_the_grid_until_it_ends(world, login):
    response = login(world.admin).post(team_url(world), grant_data(world))
    assert response.status_code == 302
    membership = Membership.objects.get(user=world.other_worker, grid=world.grid_a1)
    assert membership.granted_by == world.admin and membership.reason == "网格员甲病休，临时顶班"
    assert membership.is_temporary and membership.ends_at > timezone.now()
    assert Resident.objects.visible_to(world.other_worker).filter(pk=world.resident_a1.pk).exists()
    assert AuditEvent.objects.filter(action="grant", object_code=membership.code, actor=world.admin).exists()


def test_it_explains_bad_grants_and_creates_nothing(world, login):
    count = Membership.objects.count()
    client = login(world.admin)
    for data in (
        grant_data(world, username="nobody"),
        grant_data(world, reason=""),
        grant_data(world, role="grid_leader", place=f"community:{world.community.code}"),
        grant_data(world, ends_at="2001-01-01T08:00"),
        grant_data(world, place=f"grid:{'x' * 12}"),
    ):
        response = client.post(team_url(world), data)
        assert response.status_code == 200 and response.context["form"].errors, data
    assert Membership.objects.count() == count


def test_it_refuses_the_team_to_workers_and_changes_nothing(world, login):
    count = Membership.objects.count()
    for user, status in ((world.grid_worker, 403), (world.viewer, 403)):
        client = login(user)
        assert client.get(team_url(world)).status_code == status
        assert client.post(team_url(world), grant_data(world, username=user.username)).status_code == status
    assert Membership.objects.count() == count


def test_it_takes_a_role_away_with_a_reason(world, login):
    membership = Membership.objects.get(user=world.viewer)
    client = login(world.admin)
    url = reverse("accounts:revoke", kwargs={"code": membership.code})
    client.post(url, {"reason": ""})
    membership.refresh_from_db()
    assert membership.revoked_at is None
    client.post(url, {"reason": "调离"})
    membership.refresh_from_db()
    assert membership.revoked_at is not None
    assert not Resident.objects.visible_to(world.viewer).exists()
    assert AuditEvent.objects.filter(action="revoke", object_code=membership.code, reason="调离").exists()


def test_a_worker_cannot_take_a_role_away(world, login):
    membership = Membership.objects.get(user=world.viewer)
    response = login(world.grid_worker).post(
        reverse("accounts:revoke", kwargs={"code": membership.code}), {"reason": "x"}
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.revoked_at is None
