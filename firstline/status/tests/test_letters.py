"""The letter to residents (致居民的信) and the gate poster, as real PDFs read back.

Personas: the grid worker of A1 prints the letters of building 1栋; the read-only
viewer may not (403, nothing issued); the worker of A2 does not see 1栋 (404).
Posters need ``edit_ledger`` over the community: the community administrator.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from firstline.accounts.household_codes import current_logins, find_household_login, format_code
from firstline.accounts.models import HouseholdLogin
from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.actions import do_create_resident
from firstline.places.models import Entrance, Household
from firstline.status import letters
from firstline.status.tests import pdftext

BASE = "http://testserver/checkin/"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


@pytest.fixture
def building(world):
    """1栋 with three households: 501 (张三) and two more rooms, one with a resident of its own."""
    entrance = Entrance.objects.get(building=world.building_a1, number=1)
    for room in ("502", "601"):
        Household.objects.create(building=world.building_a1, entrance=entrance, room=room, floor=int(room[0]))
    do_create_resident(
        world.admin,
        Household.objects.get(building=world.building_a1, room="601"),
        {"name": "王小明", "id_number": make_id_number("420102", serial=77), "phone": "13700000009"},
    )
    return world.building_a1


def households_of(building) -> list[Household]:
    return list(Household.objects.filter(building=building).select_related("building", "entrance"))


def test_it_prints_one_a4_page_per_household_with_address_and_code_and_no_names(world, building):
    households = households_of(building)
    token = letters.start_letters(
        world.grid_worker, building, households, base=BASE, text=letters.LetterText(hotline="0755-12345678")
    )
    job = letters.read_job(token)
    assert job["state"] == "done" and job["pages"] == 3

    pdf = letters.pdf_path(token).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdftext.page_count(pdf) == 3
    assert b"/MediaBox [0 0 595" in pdftext.everything(pdf)  # A4: 595 × 842 points
    assert "Noto-Sans-CJK-SC" in pdftext.fonts(pdf).values()  # the Chinese font is embedded
    text = pdftext.text(pdf)
    assert "致居民的信" in text and "健康打卡" in text and "37.3" in text and "0755-12345678" in text
    for household in households:
        assert household.address in text
        assert format_code(letters.household_codes([household])[household.pk]) in text
    assert "张三" not in text and "王小明" not in text
    assert world.resident_a1.id_number_masked not in text and "13812345678" not in text


def test_printing_gives_codes_to_those_without_and_keeps_the_others(world, building):
    households = households_of(building)
    first = letters.do_print_letters(
        world.grid_worker, households[:1], place=building, base=BASE, text=letters.LetterText()
    )
    again = letters.do_print_letters(
        world.grid_worker, households, place=building, base=BASE, text=letters.LetterText()
    )
    assert again[households[0].pk] == first[households[0].pk]
    assert set(again) == {household.pk for household in households}
    printed = AuditEvent.objects.filter(action="export", object_type="letters", object_code=building.code)
    assert printed.count() == 2 and printed.last().detail == {"households": 3}


def test_the_qr_code_opens_the_check_in_page_with_the_code_in_the_fragment(world):
    url = letters.checkin_url(BASE, "K7P3Q9MX")
    assert url == "http://testserver/checkin/#K7P3-Q9MX"
    assert letters.qr_data_uri(url).startswith("data:image/svg+xml")


def test_letters_of_a_building_are_a_job_with_progress_and_a_download(world, building, login):
    client = login(world.grid_worker)
    page = reverse("public:building_letters", kwargs={"code": building.code})
    assert client.get(page).status_code == 200
    response = client.post(page, {"action": "print", "hotline": "12345", "note": ""})
    assert response.status_code == 302
    job_page = client.get(response["Location"])
    assert "信已生成" in job_page.content.decode() or "信件" in job_page.content.decode()
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    download = client.get(reverse("public:letters_download", kwargs={"code": building.code, "token": token}))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Cache-Control"] == "no-store"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert len(current_logins(households_of(building))) == 3


def test_a_job_is_found_only_under_its_own_building(world, building, login):
    token = letters.start_letters(
        world.grid_worker, building, households_of(building), base=BASE, text=letters.LetterText()
    )
    client = login(world.admin)
    other = reverse("public:letters_job", kwargs={"code": world.building_a2.code, "token": token})
    assert client.get(other).status_code == 404


def test_one_households_letter_is_made_in_the_request(world, building, login):
    client = login(world.grid_worker)
    response = client.post(
        reverse("public:building_letters", kwargs={"code": building.code}),
        {"action": "letter", "household": world.household_a1.code},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pdftext.page_count(response.content) == 1
    assert world.household_a1.address in pdftext.text(response.content)


def test_a_new_code_for_one_household_revokes_its_old_one(world, building, login):
    client = login(world.grid_worker)
    page = reverse("public:building_letters", kwargs={"code": building.code})
    client.post(page, {"action": "issue"})
    old = letters.household_codes([world.household_a1])[world.household_a1.pk]
    client.post(page, {"action": "new_code", "household": world.household_a1.code})
    assert find_household_login(old) is None
    assert HouseholdLogin.objects.filter(household=world.household_a1, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("other_worker", 404)])
def test_those_who_may_not_edit_the_building_print_nothing(world, building, login, persona, status):
    client = login(getattr(world, persona))
    response = client.post(reverse("public:building_letters", kwargs={"code": building.code}), {"action": "print"})
    assert response.status_code == status
    assert not HouseholdLogin.objects.exists()
    assert not AuditEvent.objects.filter(object_type__in=("letters", "household_login")).exists()
    assert not list(letters.letters_dir().iterdir())


def test_the_gate_poster_has_the_chinese_title_and_a_big_qr_code(world, login):
    client = login(world.admin)
    response = client.get(reverse("public:gate_poster", kwargs={"code": world.gate.code}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdftext.text(response.content)
    assert "返乡/来访人员请扫码登记" in text and "南门" in text and f"/declare/{world.gate.code}/" in text
    assert AuditEvent.objects.filter(action="export", object_type="poster", object_code=world.gate.code).exists()
    assert (
        login(world.grid_worker).get(reverse("public:gate_poster", kwargs={"code": world.gate.code})).status_code == 403
    )


def test_letters_take_tens_of_milliseconds_per_household(world, building):
    """The measurement behind running a building's letters as a job (docs/letters.md)."""
    households = households_of(building)
    codes = letters.do_print_letters(
        world.grid_worker, households, place=building, base=BASE, text=letters.LetterText()
    )
    started = time.monotonic()
    letters.html_to_pdf(letters.letters_html(world.community, households, codes, BASE, letters.LetterText()))
    per_household = (time.monotonic() - started) / len(households)
    assert per_household < 1.0
