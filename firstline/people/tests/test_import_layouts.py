"""The lists communities receive, written in code (``sheets.py``) and read back field by field.

Each layout is written in the format it usually arrives in: the hotel transfer list,
returnee declaration sheet, rail-ticket list and gate registration sheet as .xlsx,
the community's own ledger as a GBK CSV, and the returnee sheet again as .xls.
Everything is synthetic (``make_id_number``, phones 170…). Parsing needs no database.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from firstline.conftest import leaks
from firstline.people.idcard import parse_id_number
from firstline.people.importing.parse import ParsedSheet, read_sheet
from firstline.people.tests import sheets
from firstline.people.tests.sheets import CHEN_ID, LI_ID, LIU_ID, SUN_ID, WANG_ID, ZHANG_ID, ZHAO_ID, ZHOU_ID

TODAY = date(2020, 2, 10)  # "1月23日" is 2020-01-23
SHANGHAI = ZoneInfo("Asia/Shanghai")


def person(number: str) -> dict[str, object]:
    """The fields a valid ID number gives: type, the 18-character number, birth date and sex."""
    parsed = parse_id_number(number)
    return {"id_type": "resident_id", "id_number": parsed.number, "birth_date": parsed.birth_date, "sex": parsed.sex}


def problems(sheet: ParsedSheet) -> dict[int, list[tuple[str, str, str]]]:
    return {row.row: [(p.code, p.column, p.value) for p in row.problems] for row in sheet.rows if row.problems}


def assert_nothing_leaks(sheet: ParsedSheet) -> None:
    """No problem shows a full ID number or mobile, in either language."""
    for row in sheet.rows:
        for problem in row.problems:
            assert not leaks(problem.value), (row.row, problem.code)
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    assert not leaks(str(problem.message)), (row.row, problem.code)


def test_it_reads_a_hotel_transfer_list_with_two_title_rows(tmp_path):
    sheet = read_sheet(sheets.write_xlsx(tmp_path / "转运名单.xlsx", sheets.hotel_transfer_list()), today=TODAY)

    assert sheet.header_row == 3
    assert sheet.unmapped == ["序号"]
    assert [column.field for column in sheet.columns[1:]] == [
        "name", "sex", "age", "id_number", "phone", "address", "isolation_place", "isolation_start",
        "isolation_end", "notes",
    ]  # fmt: skip
    rows = {row.row: row.fields for row in sheet.rows}
    assert list(rows) == [4, 5, 6, 7, 8, 9, 10]  # the blank row 11 and the numbered-only row 12 are skipped
    sunshine_3_2 = {"compound": "阳光花园", "building": "3栋", "building_number": "3", "entrance": 2}
    assert rows[4] == {
        "name": "张三", **person(ZHANG_ID), "age": 29, "phone": "17000000001",
        "address": "阳光花园3栋2单元501室", **sunshine_3_2, "room": "501",
        "isolation_place": "如家酒店(江岸店)", "isolation_start": date(2020, 2, 3),
        "isolation_end": date(2020, 2, 17), "notes": "密接",
    }  # fmt: skip
    assert rows[5] == {
        "name": "李四", **person(LI_ID), "age": 44, "phone": "17000000002",
        "address": "3-2-502", "building": "3", "building_number": "3", "entrance": 2, "room": "502",
        "isolation_place": "如家酒店", "isolation_start": date(2020, 2, 3), "isolation_end": date(2020, 2, 17),
    }  # fmt: skip
    assert rows[6] == {
        "name": "王五", **person(WANG_ID), "age": 57, "phone": "17000000003",
        "address": "3幢501室", "building": "3幢", "building_number": "3", "room": "501",
        "isolation_place": "如家酒店", "isolation_start": date(2020, 2, 3), "isolation_end": date(2020, 2, 17),
    }  # fmt: skip
    assert WANG_ID.endswith("X")  # written with a lower-case x
    assert rows[7] == {
        "name": "赵六", **person(ZHAO_ID), "age": 70, "phone": "057188880004",
        "address": "幸福路12号阳光花园3号楼1单元101", "compound": "阳光花园", "building": "3号楼",
        "building_number": "3", "entrance": 1, "room": "101",
        "isolation_place": "锦江之星", "isolation_start": date(2020, 2, 4), "isolation_end": date(2020, 2, 18),
        "notes": "15位老身份证",
    }  # fmt: skip
    assert rows[8] == {
        "name": "陈七", **person(CHEN_ID), "age": 18, "address": "阳光花园",
        "isolation_place": "锦江之星", "isolation_start": date(2020, 2, 4), "isolation_end": date(2020, 2, 18),
    }  # fmt: skip
    assert rows[9] == {
        "name": "刘八", "sex": "F", "age": 35, "phone": "17000000006",
        "address": "3-201", "building": "3", "building_number": "3", "room": "201",
        "isolation_place": "锦江之星", "isolation_end": date(2020, 2, 18),
    }  # fmt: skip
    assert rows[10]["id_number"] == SUN_ID
    assert "name" not in rows[10]

    bad_liu = sheets.bad_check_digit(LIU_ID)
    assert problems(sheet) == {
        8: [("phone_invalid", "联系电话(手机)", "******0000"), ("address_unparsed", "现住址", "阳光花园")],
        9: [
            ("id_number_invalid", "身份证号码", "*" * 14 + bad_liu[-4:]),
            ("date_invalid", "入住时间", "二月四日"),
        ],
        10: [("name_missing", "姓名", ""), ("sex_conflicts_id", "性别", "男"), ("age_conflicts_id", "年龄", "40")],
    }
    assert [row.ok for row in sheet.rows] == [True, True, True, True, False, False, False]
    assert_nothing_leaks(sheet)


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_it_reads_a_returnee_declaration_sheet(tmp_path, suffix):
    write = sheets.write_xlsx if suffix == "xlsx" else sheets.write_xls
    sheet = read_sheet(write(tmp_path / f"返乡人员.{suffix}", sheets.returnee_declaration()), today=TODAY)

    assert sheet.header_row == 2
    assert sheet.unmapped == []
    rows = {row.row: row.fields for row in sheet.rows}
    declared = {"batch": "3"}
    assert rows[3] == {
        "name": "张三", **person(ZHANG_ID), "phone": "17000000001", "domicile": "湖北省武汉市江岸区",
        "address": "阳光花园3-2-501", "compound": "阳光花园", "building": "3", "building_number": "3",
        "entrance": 2, "room": "501", "person_type": "registered", "origin": "湖北武汉",
        "arrived_on": date(2020, 1, 23), "transport": "train", "trip_number": "G1234", "companions": "妻子、儿子",
        "temperature": 36.5, "symptoms": "", "measures": "居家隔离", **declared,
    }  # fmt: skip
    assert rows[4] == {
        "name": "李四", **person(LI_ID), "phone": "17000000002", "domicile": "湖北省孝感市",
        "address": "阳光花园3栋2单元502室", "compound": "阳光花园", "building": "3栋", "building_number": "3",
        "entrance": 2, "room": "502", "person_type": "migrant", "origin": "湖北孝感",
        "arrived_on": date(2020, 1, 22), "transport": "car", "trip_number": "鄂K12345",
        "temperature": 36.8, "symptoms": "咳嗽", "measures": "居家隔离", **declared,
    }  # fmt: skip
    assert rows[5] == {
        "name": "Maria Rossi", "sex": "F", "phone": "17000000009", "domicile": "意大利米兰",
        "address": "阳光花园5栋1单元1201", "compound": "阳光花园", "building": "5栋", "building_number": "5",
        "entrance": 1, "room": "1201", "person_type": "overseas", "origin": "意大利",
        "arrived_on": date(2020, 3, 1), "transport": "flight", "trip_number": "CA1234",
        "temperature": 36.4, "symptoms": "", "measures": "集中隔离", **declared,
    }  # fmt: skip
    assert rows[6] == {
        "name": "王五", **person(WANG_ID), "phone": "17000000003", "domicile": "湖北省武汉市",
        "address": "3号楼2单元301", "building": "3号楼", "building_number": "3", "entrance": 2, "room": "301",
        "person_type": "migrant", "origin": "武汉", "arrived_on": date(2020, 1, 21), "transport": "coach",
        "temperature": 39.9, "symptoms": "发热", "measures": "送发热门诊", **declared,
    }  # fmt: skip
    assert rows[7] == {
        "name": "周十", **person(ZHOU_ID), "domicile": "湖北省黄冈市",
        "address": "3-2-302", "building": "3", "building_number": "3", "entrance": 2, "room": "302",
        "person_type": "registered", "origin": "黄冈", "transport": "train", "trip_number": "K81", **declared,
    }  # fmt: skip
    assert problems(sheet) == {
        6: [("sex_conflicts_id", "性别", "女")],
        7: [
            ("phone_invalid", "联系方式", "******0003"),
            ("date_invalid", "返回时间", "1.32"),
            ("temperature_invalid", "体温", "正常"),
        ],
    }
    assert_nothing_leaks(sheet)


def test_it_reads_a_rail_ticket_list(tmp_path):
    sheet = read_sheet(sheets.write_xlsx(tmp_path / "铁路旅客.xlsx", sheets.rail_ticket_list()), today=TODAY)

    assert sheet.header_row == 1
    assert [column.field for column in sheet.columns] == [
        "name", "id_number", "departed_on", "trip_number", "origin", "destination", "carriage", "seat", "domicile",
    ]  # fmt: skip
    rows = {row.row: row.fields for row in sheet.rows}
    wuhan = {"domicile": "湖北省武汉市"}
    assert rows[2] == {
        "name": "张三", **person(ZHANG_ID), "departed_on": date(2020, 1, 22),
        "departed_at": datetime(2020, 1, 22, 8, 30, tzinfo=SHANGHAI), "trip_number": "G1234", "transport": "train",
        "origin": "武汉", "destination": "北京西", "carriage": "05", "seat": "12F", **wuhan,
    }  # fmt: skip
    assert rows[3] == {
        "name": "李四", **person(LI_ID), "departed_on": date(2020, 1, 22),
        "departed_at": datetime(2020, 1, 22, 14, 5, tzinfo=SHANGHAI), "trip_number": "D3021", "transport": "train",
        "origin": "汉口", "destination": "上海虹桥", "carriage": "3", "seat": "8A", "domicile": "湖北省孝感市",
    }  # fmt: skip
    assert rows[4] == {
        "name": "孙九", **person(SUN_ID), "departed_on": date(2020, 1, 23), "trip_number": "Z38",
        "transport": "train", "origin": "武昌", "destination": "北京西", "carriage": "11", "seat": "023", **wuhan,
    }  # fmt: skip
    assert rows[5] == {
        "name": "周十", **person(ZHOU_ID), "departed_on": date(2020, 1, 23),
        "departed_at": datetime(2020, 1, 23, 7, 45, tzinfo=SHANGHAI), "trip_number": "K1156", "transport": "train",
        "origin": "汉口", "destination": "广州", "carriage": "15", "seat": "无座", **wuhan,
    }  # fmt: skip
    assert rows[6] == {
        "name": "刘八", **person(LIU_ID), "departed_on": date(2020, 1, 24), "trip_number": "G79",
        "transport": "train", "origin": "武汉", "destination": "深圳北", "carriage": "2", "seat": "3C", **wuhan,
    }  # fmt: skip
    assert problems(sheet) == {}


def test_it_reads_a_gate_registration_sheet(tmp_path):
    sheet = read_sheet(sheets.write_xlsx(tmp_path / "南门登记.xlsx", sheets.gate_registration()), today=TODAY)

    assert sheet.header_row == 2
    assert sheet.unmapped == ["日期", "出/入", "事由"]
    rows = {row.row: row.fields for row in sheet.rows}
    sunshine = {"compound": "阳光花园"}
    assert rows[3] == {
        "name": "张三", "phone": "17000000001", "temperature": 36.6, **sunshine,
        "building": "3号楼", "building_number": "3", "entrance": 2, "room": "501",
    }  # fmt: skip
    assert rows[4] == {
        "name": "李四", "phone": "17000000002", "temperature": 36.4, **sunshine,
        "building": "3", "building_number": "3", "entrance": 2, "room": "502",
    }  # fmt: skip
    assert rows[5] == {
        "name": "王五", "phone": "17000000003", "temperature": 36.9, **sunshine,
        "building": "三栋", "building_number": "3", "entrance": 2, "room": "601",
    }  # fmt: skip
    assert rows[6] == {
        "name": "孙九", "phone": "17000000007", **sunshine, "building": "A座", "building_number": "A", "room": "1201",
    }  # fmt: skip
    assert rows[7] == {
        "name": "周十", "phone": "17000000008", "temperature": 36.5, **sunshine,
        "building": "3", "building_number": "3", "entrance": 2, "room": "701",
    }  # fmt: skip
    assert problems(sheet) == {
        6: [("entrance_invalid", "单元", "东单元"), ("temperature_implausible", "体温(℃)", "34")],
    }


def test_it_reads_a_gbk_csv_ledger(tmp_path):
    path = sheets.write_csv(tmp_path / "台账.csv", sheets.community_ledger(), encoding="gbk")
    assert path.read_bytes().decode("gbk")  # really GBK, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    sheet = read_sheet(path, today=TODAY)

    assert sheet.header_row == 2
    rows = {row.row: row.fields for row in sheet.rows}
    room_3_2_501 = {"building_number": "3", "entrance": 2, "room": "501"}
    assert rows[3] == {
        "name": "张三", **person(ZHANG_ID), "phone": "17000000001", "relation_to_head": "head",
        "building": "3", **room_3_2_501, "person_type": "registered", "workplace": "武汉某公司",
    }  # fmt: skip
    assert rows[4] == {
        "name": "李四", **person(LI_ID), "phone": "17000000002", "relation_to_head": "spouse",
        "building": "3栋", **room_3_2_501, "person_type": "registered", "notes": "独居",
    }  # fmt: skip
    assert rows[5] == {
        "name": "王小五", "sex": "M", "phone": "17000000010", "relation_to_head": "child",
        "building": "3", **room_3_2_501, "workplace": "第一中学",
    }  # fmt: skip
    assert rows[6] == {
        "name": "赵六", **person(ZHAO_ID), "relation_to_head": "parent", "building": "3", **room_3_2_501,
        "notes": "老身份证",
    }  # fmt: skip
    assert rows[7] == {
        "name": "陈七", **person(CHEN_ID), "phone": "17000000005", "relation_to_head": "tenant",
        "building": "5", "building_number": "5", "entrance": 1, "room": "1201", "person_type": "migrant",
        "notes": "性别填错",
    }  # fmt: skip
    assert problems(sheet) == {7: [("sex_conflicts_id", "性别", "男")]}


def test_it_reads_the_same_people_from_every_format(tmp_path):
    rows = sheets.returnee_declaration()
    parsed = [
        read_sheet(sheets.write_xlsx(tmp_path / "a.xlsx", rows), today=TODAY),
        read_sheet(sheets.write_xls(tmp_path / "a.xls", rows), today=TODAY),
        read_sheet(sheets.write_csv(tmp_path / "a.csv", rows, encoding="utf-8", bom=True), today=TODAY),
        read_sheet(sheets.write_csv(tmp_path / "b.csv", rows, encoding="gbk"), today=TODAY),
    ]
    first = [(row.row, row.fields, [p.code for p in row.problems]) for row in parsed[0].rows]
    for sheet in parsed[1:]:
        assert [(row.row, row.fields, [p.code for p in row.problems]) for row in sheet.rows] == first
