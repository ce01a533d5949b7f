from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from firstline.accounts.actions import do_grant_membership, do_revoke_membership
from firstline.accounts.models import Membership, User
from firstline.audit.models import AuditEvent
from firstline.people.models import Resident
from firstline.places.models import Community, Household
from firstline.scoping import forget_memberships


def test_a_grid_worker_sees_only_her_grid(world):
    assert list(Resident.objects.visible_to(world.grid_worker)) == [world.resident_a1]
    assert list(Resident.objects.visible_to(world.other_worker)) == [world.resident_a2]
    assert set(Resident.objects.visible_to(world.admin)) == {world.resident_a1, world.resident_a2}


def test_a_user_without_membership_sees_nothing(world):
    nobody = User.objects.create_user("nobody", password="x" * 12)
    superuser = User.objects.create_superuser("root", password="x" * 12)
    for user in (nobody, superuser):
        assert not Resident.objects.visible_to(user).exists()
        assert not Household.objects.visible_to(user).exists()
        assert not Community.objects.visible_to(user).exists()


def test_a_gate_guard_sees_no_personal_record(world):
    from firstline.conftest import make_user

    guard = make_user("guard", "gate_guard", world.gate)
    assert not Resident.objects.visible_to(guard).exists()
    assert list(Community.objects.visible_to(guard)) == [world.community]


def test_places_are_visible_from_below_but_records_are_not(world):
    assert list(Community.objects.visible_to(world.grid_worker)) == [world.community]
    assert not Household.objects.visible_to(world.grid_worker).filter(pk=world.household_a2.pk).exists()


def test_a_temporary_grant_works_until_it_ends_and_is_audited(world):
    ends = timezone.now() + timedelta(hours=4)
    membership = do_grant_membership(
        world.admin, world.other_worker, "grid_worker", world.grid_a1, ends_at=ends, reason="顶班"
    )
    assert membership.is_temporary and membership.granted_by == world.admin
    assert Resident.objects.visible_to(world.other_worker).filter(pk=world.resident_a1.pk).exists()
    assert AuditEvent.objects.filter(action="grant", object_code=membership.code, reason="顶班").exists()
    with time_machine.travel(ends + timedelta(minutes=1)):
        forget_memberships(world.other_worker)
        assert not Resident.objects.visible_to(world.other_worker).filter(pk=world.resident_a1.pk).exists()


def test_a_grid_worker_cannot_grant_and_nothing_is_created(world):
    count = Membership.objects.count()
    with pytest.raises(PermissionDenied):
        do_grant_membership(
            world.grid_worker,
            world.viewer,
            "grid_worker",
            world.grid_a1,
            ends_at=timezone.now() + timedelta(hours=1),
            reason="help",
        )
    assert Membership.objects.count() == count


def test_a_grant_needs_a_reason_and_a_valid_level(world):
    with pytest.raises(ValidationError):
        do_grant_membership(world.admin, world.viewer, "grid_worker", world.grid_a1, ends_at=None, reason="")
    with pytest.raises(ValidationError):
        do_grant_membership(world.admin, world.viewer, "grid_worker", world.community, ends_at=None, reason="why")


def test_a_revoked_membership_gives_nothing(world):
    membership = Membership.objects.get(user=world.grid_worker)
    do_revoke_membership(world.admin, membership, "left the team")
    assert not Resident.objects.visible_to(world.grid_worker).exists()
