"""The zh-Hans catalogue is complete, the pages speak Chinese by default, and English stays one click away."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{[^{}]*\}")
# The only Latin word a zh-Hans page may show: the button that switches to English.
ALLOWED_LATIN = {"English"}


def parse_po(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file: ``msgid``, ``msgid_plural``, ``msgstr`` (a list), ``flags``, ``where``."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict[str, object] = {"flags": set(), "where": "", "msgstr": []}
        field = ""
        values: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#:"):
                entry["where"] = f"{entry['where']} {line[2:].strip()}".strip()
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                values[field] += ast.literal_eval(line)
            else:
                field, _space, literal = line.partition(" ")
                values[field] = ast.literal_eval(literal)
        entry["msgid"] = values.get("msgid", "")
        entry["msgid_plural"] = values.get("msgid_plural")
        entry["msgstr"] = [value for name, value in sorted(values.items()) if name.startswith("msgstr")]
        entries.append(entry)
    return entries


def visible_text(page: str) -> str:
    """The words a user sees: text between tags, plus placeholders, labels for screen readers and the title."""
    body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    attributes = re.findall(r'\b(?:placeholder|aria-label|title)="([^"]*)"', body)
    text = re.sub(r"(?s)<[^>]+>", " ", body)
    return html.unescape(" ".join([text, *attributes]))


def latin_words(page: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", visible_text(page))) - ALLOWED_LATIN


def test_the_catalogue_is_complete_and_nothing_is_fuzzy():
    entries = parse_po(PO_FILE)
    header, messages = entries[0], entries[1:]

    assert "fuzzy" not in header["flags"]
    header_text = header["msgstr"][0]  # type: ignore[index]
    assert "Language: zh_Hans\n" in header_text
    assert "charset=UTF-8" in header_text
    assert "Plural-Forms: nplurals=1; plural=0;" in header_text
    assert len(messages) > 200

    fuzzy = [entry["msgid"] for entry in messages if "fuzzy" in entry["flags"]]  # type: ignore[operator]
    untranslated = [entry["msgid"] for entry in messages if not all(entry["msgstr"]) or not entry["msgstr"]]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"

    for entry in messages:
        strings = entry["msgstr"]
        if entry["msgid_plural"] is not None:
            assert len(strings) == 1, f"zh has one plural form: {entry['msgid']!r}"  # type: ignore[arg-type]
        wanted = sorted(PLACEHOLDER.findall(entry["msgid"]))  # type: ignore[arg-type]
        for string in strings:  # type: ignore[attr-defined]
            assert sorted(PLACEHOLDER.findall(string)) == wanted, f"placeholders differ in {entry['where']}"


def test_the_compiled_catalogue_is_up_to_date():
    assert MO_FILE.exists()
    assert MO_FILE.stat().st_mtime >= PO_FILE.stat().st_mtime


def test_the_login_page_is_in_chinese_by_default(client):
    response = client.get(reverse("accounts:login"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in page
    assert "登录" in page and "密码" in page and "用户名" in page
    assert "Password" not in page and "Log in" not in page
    assert not latin_words(page)


def test_the_ledger_pages_of_a_grid_worker_are_in_chinese(world, login):
    client = login(world.grid_worker)
    community = world.community.code
    urls = [
        reverse("people:overview", kwargs={"community": community}),
        reverse("people:residents", kwargs={"community": community}),
        reverse("people:resident", kwargs={"code": world.resident_a1.code}),
        reverse("people:household", kwargs={"code": world.household_a1.code}),
        reverse("people:resident_edit", kwargs={"code": world.resident_a1.code}),
        reverse("people:resident_new", kwargs={"code": world.household_a1.code}),
        reverse("people:movement_new", kwargs={"code": world.resident_a1.code}),
        reverse("places:community_buildings", kwargs={"community": community}),
    ]
    for url in urls:
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert not latin_words(page), f"{url} shows English: {sorted(latin_words(page))}"

    residents = client.get(urls[1]).content.decode()
    assert "居民" in residents and "搜索" in residents and "全部网格" in residents and "关爱标记" in residents
    assert "共1人" in residents and "第一道防线" in residents and "退出" in residents
    for english in ("Residents", "Search", "All grids", "care flags", "Log out", "FirstLine"):
        assert english not in residents

    resident = client.get(urls[2]).content.decode()
    assert "证件号码" in resident and "与户主关系" in resident and "户主" in resident and "查看完整号码" in resident
    assert "健康" in resident and "修改记录" in resident and "已录入台账。" in resident

    household = client.get(urls[3]).content.decode()
    assert f"{world.household_a1.building.name} 1单元 501" in household


def test_the_team_page_of_a_community_admin_is_in_chinese(world, login):
    client = login(world.admin)

    response = client.get(reverse("accounts:team", kwargs={"community": world.community.code}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "团队" in page and "授予角色" in page and "网格员" in page and "收回授权" in page
    usernames = {user.username for user in (world.admin, world.grid_worker, world.viewer, world.other_worker)}
    shown = {word for word in latin_words(page) if not any(word in name for name in usernames)}
    assert not shown, f"the team page shows English: {sorted(shown)}"


def test_a_refused_correction_explains_itself_in_chinese(world, login):
    client = login(world.grid_worker)

    response = client.post(
        reverse("people:resident_edit", kwargs={"code": world.resident_a1.code}),
        {"name": "张叁", "id_type": "resident_id", "relation_to_head": "head", "person_type": "registered"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "请填写更正原因。" in page
    assert not latin_words(page)


def test_the_language_switch_turns_the_interface_to_english(client):
    login_url = reverse("accounts:login")

    response = client.post(reverse("set_language"), {"language": "en", "next": login_url}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == login_url
    assert 'lang="en"' in page
    assert "Log in" in page and "Password" in page
    assert "登录" not in page and "密码" not in page
    assert "中文" in page  # the way back

    client.post(reverse("set_language"), {"language": "zh-hans", "next": login_url})
    assert "登录" in client.get(login_url).content.decode()
