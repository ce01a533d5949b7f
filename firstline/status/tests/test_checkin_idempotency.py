"""A device may send a check-in twice: the client id makes the second one harmless, or a kept conflict."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from firstline.status.actions import CheckInConflictError, do_record_checkin
from firstline.status.models import CheckIn, CheckInConflict


def test_the_same_payload_twice_is_one_checkin(world):
    client_id = uuid.uuid4()
    first, created = do_record_checkin(world.grid_worker, world.resident_a1, client_id=client_id, temperature="36.6")
    again, created_again = do_record_checkin(
        world.grid_worker, world.resident_a1, client_id=str(client_id), temperature="36.6", taken_at=first.taken_at
    )
    assert created and not created_again and again.pk == first.pk
    assert CheckIn.objects.count() == 1


def test_another_payload_under_the_same_id_is_a_kept_conflict(world):
    client_id = uuid.uuid4()
    first, _ = do_record_checkin(world.grid_worker, world.resident_a1, client_id=client_id, temperature="36.6")
    with pytest.raises(CheckInConflictError) as raised:
        do_record_checkin(
            world.grid_worker, world.resident_a1, client_id=client_id, temperature="38.6", taken_at=first.taken_at
        )
    assert raised.value.checkin.pk == first.pk
    conflict = CheckInConflict.objects.get()
    assert conflict.checkin == first and conflict.payload["temperature"] == "38.6"
    first.refresh_from_db()
    assert str(first.temperature) == "36.6" and CheckIn.objects.count() == 1
    assert world.resident_a1.__class__.objects.get(pk=world.resident_a1.pk).status == "healthy"


@pytest.mark.parametrize(
    ("temperature", "field"), [("abc", "temperature"), ("45.2", "temperature"), ("", "temperature")]
)
def test_bad_readings_are_refused_and_nothing_is_stored(world, temperature, field):
    with pytest.raises(ValidationError) as raised:
        do_record_checkin(world.grid_worker, world.resident_a1, client_id=uuid.uuid4(), temperature=temperature)
    assert field in raised.value.message_dict
    assert CheckIn.objects.count() == 0


def test_a_worker_of_another_grid_cannot_check_anyone_in(world):
    with pytest.raises(PermissionDenied):
        do_record_checkin(world.other_worker, world.resident_a1, client_id=uuid.uuid4(), temperature="36.5")
    assert CheckIn.objects.count() == 0


def test_a_household_code_checks_in_only_its_own_members(world):
    from firstline.accounts.models import HouseholdLogin

    login = HouseholdLogin.objects.create(household=world.household_a1, code_sealed=b"x", code_index="i" * 64)
    checkin, created = do_record_checkin(
        None, world.resident_a1, client_id=uuid.uuid4(), temperature="36.4", household_login=login
    )
    assert created and checkin.source == "self" and checkin.recorded_by is None
    with pytest.raises(PermissionDenied):
        do_record_checkin(None, world.resident_a2, client_id=uuid.uuid4(), temperature="36.4", household_login=login)
    assert CheckIn.objects.count() == 1
