"""A resident checks in from the letter's QR code, and a returnee declares at the gate: a phone, zh-Hans."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from firstline.accounts.household_codes import do_issue_household_codes
from firstline.conftest import make_id_number
from firstline.status.actions import do_order_isolation
from firstline.status.letters import checkin_url
from firstline.status.models import CheckIn, Declaration, RiskArea
from firstline.tasks.models import Task

pytestmark = pytest.mark.e2e


def test_a_resident_checks_in_from_the_letters_qr_code(world, phone):
    do_order_isolation(world.admin, world.resident_a1)
    code = do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]
    phone.goto(checkin_url(phone.url_for("/checkin/"), code))  # what the QR code on the letter opens
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    expect(phone.locator("#id_code")).to_have_value(f"{code[:4]}-{code[4:]}")
    assert "#" not in phone.url  # the code left the address bar

    phone.click("#code-form button[type=submit]")
    phone.wait_for_url("**/checkin/household/")
    member = phone.locator(f"[data-member='{world.resident_a1.code}']")
    expect(member).to_contain_text("张*")
    expect(member).to_contain_text("需打卡")
    assert "张三" not in phone.content()
    box = member.locator("input[inputmode=decimal]")
    box.fill("36.6")
    phone.click("#send")
    expect(phone.locator("#result")).to_contain_text("已打卡，谢谢")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    checkin = CheckIn.objects.get(resident=world.resident_a1)
    assert str(checkin.temperature) == "36.6" and checkin.source == "self"


def test_a_returnee_declares_from_the_gate_qr_code(world, phone):
    RiskArea.objects.create(street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1))
    id_number = make_id_number("420102", date(1991, 4, 5), 31)
    phone.goto(phone.url_for(f"/declare/{world.gate.code}/"))  # what the gate poster's QR code opens
    expect(phone.locator("h1")).to_have_text("返乡/来访人员登记")

    phone.fill("#id_name", "赵返乡")
    phone.fill("#id_id_number", id_number)
    phone.fill("#id_phone", "13911112222")
    phone.fill("#id_address", "1栋1单元501")
    phone.fill("#id_origin", "湖北省武汉市江汉区")
    phone.fill("#id_arrival_date", (timezone.localdate() - timedelta(days=1)).isoformat())
    phone.select_option("#id_transport", "train")
    phone.fill("#id_trip_no", "G1234")
    phone.fill("#id_temperature", "36.7")
    phone.click("#send")

    phone.wait_for_url("**/declare/thanks/")
    expect(phone.locator("#thanks")).to_contain_text("谢谢：您的登记已收到。")
    expect(phone.locator("#thanks")).to_contain_text("社区工作人员今天会联系您")
    assert id_number not in phone.url and id_number not in phone.content()

    declaration = Declaration.objects.get()
    assert declaration.from_risk_area and declaration.gate == world.gate
    assert Task.objects.get(kind=Task.Kind.DECLARATION).urgent
