from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.actions import do_create_resident, do_unmask, do_update_resident, find_by_id_number, find_by_phone
from firstline.people.models import Resident, ResidentVersion
from firstline.sealing import unseal


def test_it_stores_id_and_phone_sealed_indexed_and_masked(world):
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    number = make_id_number(serial=123)
    assert number.encode() not in bytes(resident.id_number_sealed)
    assert unseal(resident.id_number_sealed, "id_number") == number
    assert resident.id_number_masked == "*" * 14 + number[-4:]
    assert resident.phone_masked == "138****5678"
    assert resident.birth_date == date(1990, 3, 7) and resident.sex == "M"


def test_it_finds_exact_id_and_phone_through_the_blind_index(world):
    visible = Resident.objects.visible_to(world.grid_worker)
    assert list(find_by_id_number(visible, make_id_number(serial=123).lower())) == [world.resident_a1]
    assert list(find_by_phone(visible, "+86 138-1234-5678")) == [world.resident_a1]
    assert not find_by_id_number(Resident.objects.visible_to(world.other_worker), make_id_number(serial=123)).exists()


def test_a_sealed_value_cannot_be_read_as_another_field(world):
    with pytest.raises(Exception):  # noqa: B017 — AES-GCM authentication fails
        unseal(world.resident_a1.phone_sealed, "id_number")


def test_unmasking_needs_permission_and_reason_and_is_audited(world):
    before = AuditEvent.objects.filter(action="unmask").count()
    with pytest.raises(PermissionDenied):
        do_unmask(world.viewer, world.resident_a1, "phone", "curious")
    with pytest.raises(PermissionDenied):
        do_unmask(world.other_worker, world.resident_a1, "phone", "curious")
    with pytest.raises(ValidationError):
        do_unmask(world.grid_worker, world.resident_a1, "phone", "  ")
    assert AuditEvent.objects.filter(action="unmask").count() == before
    assert do_unmask(world.grid_worker, world.resident_a1, "phone", "phone call for check-in") == "13812345678"
    event = AuditEvent.objects.filter(action="unmask").latest("id")
    assert event.actor == world.grid_worker and event.object_code == world.resident_a1.code
    assert event.reason == "phone call for check-in" and event.role == "grid_worker"


def test_a_correction_is_a_new_version_with_history(world):
    resident = do_update_resident(
        world.grid_worker, world.resident_a1, {"workplace": "第一中学", "phone": "13900001111"}, "电话已更换"
    )
    assert resident.version == 2
    latest = ResidentVersion.objects.filter(resident=resident).first()
    assert latest.version == 2 and latest.reason == "电话已更换"
    assert latest.changes["phone"] == ["138****5678", "139****1111"]
    assert latest.changes["workplace"] == ["", "第一中学"]
    assert AuditEvent.objects.filter(action="update", object_code=resident.code).exists()


def test_a_denied_correction_changes_nothing(world):
    with pytest.raises(PermissionDenied):
        do_update_resident(world.other_worker, world.resident_a1, {"name": "王五"}, "wrong grid")
    with pytest.raises(PermissionDenied):
        do_update_resident(world.viewer, world.resident_a1, {"name": "王五"}, "read only")
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    assert resident.name == "张三" and resident.version == 1
    assert ResidentVersion.objects.filter(resident=resident).count() == 1


def test_a_correction_needs_a_reason(world):
    with pytest.raises(ValidationError):
        do_update_resident(world.grid_worker, world.resident_a1, {"name": "王五"}, "")
    assert Resident.objects.get(pk=world.resident_a1.pk).name == "张三"


def test_it_rejects_an_invalid_id_and_saves_nothing(world):
    count = Resident.objects.count()
    with pytest.raises(ValidationError) as error:
        do_create_resident(world.grid_worker, world.household_a1, {"name": "赵六", "id_number": "110101199003071230"})
    assert "id_number" in error.value.message_dict
    assert Resident.objects.count() == count


def test_it_rejects_a_duplicate_id_in_the_same_community(world):
    with pytest.raises(ValidationError):
        do_create_resident(
            world.grid_worker, world.household_a1, {"name": "张三", "id_number": make_id_number(serial=123)}
        )


def test_a_correction_may_not_contradict_the_id_number(world):
    with pytest.raises(ValidationError) as error:
        do_update_resident(world.grid_worker, world.resident_a1, {"birth_date": date(1991, 3, 7)}, "typo")
    assert "birth_date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        do_update_resident(world.grid_worker, world.resident_a1, {"sex": "F"}, "typo")
    assert "sex" in error.value.message_dict
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    assert resident.birth_date == date(1990, 3, 7) and resident.sex == "M" and resident.version == 1
