"""The pages of this feature speak Chinese by default, and English on request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from firstline.accounts.household_codes import do_issue_household_codes
from firstline.status.declarations import do_submit_declaration
from firstline.tests.test_every_url import _declaration_form
from firstline.tests.test_translations import latin_words

# The example code in the help text, the QR address and the PDF link are not words.
NOT_WORDS = {"PDF", "MX", "UUID"}


def english_in(page: str) -> set[str]:
    page = re.sub(r"[A-Z0-9]{4}-[A-Z0-9]{4}", "", page)
    return latin_words(page) - NOT_WORDS


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def test_the_public_pages_are_in_chinese(world, client):
    code = do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]
    pages = [
        client.get(reverse("public:checkin")),
        client.get(reverse("public:declare_gate", kwargs={"gate": world.gate.code})),
        client.get(reverse("public:declare_thanks")),
    ]
    client.post(reverse("public:checkin"), {"code": code})
    pages.append(client.get(reverse("public:checkin_household")))
    for response in pages:
        page = response.content.decode()
        assert response.status_code == 200
        assert not english_in(page), f"{response.request['PATH_INFO']} shows English: {sorted(english_in(page))}"
    assert "健康打卡" in pages[3].content.decode() and "体温" in pages[3].content.decode()
    assert "返乡/来访人员登记" in pages[1].content.decode() and "证件号码" in pages[1].content.decode()


def test_the_workers_pages_are_in_chinese(world, login):
    declaration = do_submit_declaration(world.community, _declaration_form(world, parsed=True), gate=world.gate)
    client = login(world.admin)
    urls = [
        reverse("public:letters", kwargs={"community": world.community.code}),
        reverse("public:building_letters", kwargs={"code": world.building_a1.code}),
        reverse("public:declarations", kwargs={"community": world.community.code}),
        reverse("public:declaration", kwargs={"community": world.community.code, "code": declaration.code})
        + f"?building={world.building_a1.code}",
    ]
    for url in urls:
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert not english_in(page), f"{url} shows English: {sorted(english_in(page))}"
    assert "致居民的信" in client.get(urls[0]).content.decode()


def test_the_check_in_page_is_in_english_on_request(world, client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("public:checkin")).content.decode()
    assert "Household code" in page and "Health check-in" in page and "本户登录码" not in page
