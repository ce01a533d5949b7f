"""The parsing layer of the ledger import: normalisers, header detection, reading files, row problems.

Pure functions, no database: these tests need no personas. The whole layouts
(hotel list, returnee sheet, rail list, gate sheet, GBK CSV, .xls) are in
``test_import_layouts.py``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from firstline.conftest import leaks, make_id_number
from firstline.people.importing import normalise as n
from firstline.people.importing.columns import ALIASES, field_for_header, find_header, header_key
from firstline.people.importing.parse import MESSAGES, ParsedRow, RowParser, UnreadableFile, read_sheet
from firstline.people.models import Movement, Resident
from firstline.people.tests.sheets import full_width, write_csv, write_xls, write_xlsx

TODAY = date(2020, 2, 10)
DOC = Path(__file__).resolve().parents[3] / "docs" / "import-formats.md"
ID = make_id_number("420102", date(1990, 3, 7), 123)  # male


def parse_row(cells: dict[str, object], today: date = TODAY) -> ParsedRow:
    """One data row under the given headers, through the same RowParser read_sheet uses."""
    header = [(position, text, field_for_header(text)) for position, text in enumerate(cells)]
    row = RowParser(header, today).parse(2, list(cells.values()))
    assert row is not None
    return row


def codes(row: ParsedRow) -> list[str]:
    return [problem.code for problem in row.problems]


# --- hypothesis round trips


def _messy_id(number: str, style: str) -> str:
    if style == "lower x":
        return number.lower()
    if style == "spaces":
        return f" {number[:6]} {number[6:14]}  {number[14:]} "
    if style == "full width":
        return full_width(number)
    if style == "dashes and full-width space":
        return f"{number[:6]}-{number[6:14]}-{number[14:]}\u3000"
    return number


@given(
    region=st.sampled_from(["110101", "420102", "310115", "440305", "510107", "650102"]),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2019, 12, 31)),
    serial=st.integers(0, 999),
    style=st.sampled_from(["as is", "lower x", "spaces", "full width", "dashes and full-width space", "legacy 15"]),
)
def test_it_round_trips_any_valid_id_number_written_messily(region, born, serial, style):
    number = make_id_number(region, born, serial)
    if style == "legacy 15":
        if born.year >= 2000:
            return  # 15-digit numbers were issued to people born in the 1900s only
        written = number[:6] + number[8:17]
    else:
        written = _messy_id(number, style)
    row = parse_row({"姓名": "张三", "身份证号": written})
    assert row.ok, codes(row)
    assert row.fields["id_number"] == number
    assert row.fields["id_type"] == Resident.IdType.RESIDENT_ID
    assert row.fields["birth_date"] == born
    assert row.fields["sex"] == ("M" if serial % 2 else "F")


def _date_forms(day: date) -> list[object]:
    serial = (day - date(1899, 12, 30)).days
    return [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}-{day.month:02d}-{day.day:02d} 00:00:00",
        day.strftime("%Y%m%d"),
        int(day.strftime("%Y%m%d")),
        float(serial),
        str(serial),
        day,
        datetime(day.year, day.month, day.day, 13, 45),
        full_width(day.isoformat()),
    ]


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2049, 12, 31)), st.data())
def test_it_round_trips_any_date_in_every_supported_form(day, data):
    form = data.draw(st.sampled_from(_date_forms(day)))
    text = n.cell_text(form)
    parsed = n.parse_date(form, text, TODAY)
    assert parsed is not None, form
    assert (parsed.date() if isinstance(parsed, datetime) else parsed) == day


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(-30, 330),
    st.sampled_from(["{m}月{d}日", "{m}.{d}", "{m}-{d}", "{m}/{d}", "{m}月{d}", "{mm}-{dd}"]),
)
def test_it_infers_the_year_of_a_month_and_day_from_today(day, days_later, form):
    """The most recent such date not after today + 30 days."""
    today = day + timedelta(days=days_later)
    text = form.format(m=day.month, d=day.day, mm=f"{day.month:02d}", dd=f"{day.day:02d}")
    assert n.parse_date(text, text, today) == day


ADDRESS_FORMS = {
    "dashes": "{c}{b}-{e}-{r}",
    "栋单元室": "{c}{b}栋{e}单元{r}室",
    "号楼单元": "{c}{b}号楼{e}单元{r}",
    "幢室": "{c}{b}幢{r}室",
    "building-room": "{c}{b}-{r}",
}


@given(
    compound=st.sampled_from(["", "阳光花园", "幸福小区", "东湖苑", "武汉市江岸区百步亭花园"]),
    building=st.integers(1, 99),
    entrance=st.integers(1, 9),
    floor=st.integers(1, 33),
    unit=st.integers(1, 4),
    form=st.sampled_from(sorted(ADDRESS_FORMS)),
    wide=st.booleans(),
)
def test_it_round_trips_generated_addresses_in_every_combined_form(
    compound, building, entrance, floor, unit, form, wide
):
    room = f"{floor}{unit:02d}"
    text = ADDRESS_FORMS[form].format(c=compound, b=building, e=entrance, r=room)
    row = parse_row({"姓名": "张三", "现住址": full_width(text) if wide else text})
    assert row.ok, codes(row)
    assert row.fields["building_number"] == str(building)
    assert row.fields.get("entrance") == (entrance if "{e}" in ADDRESS_FORMS[form] else None)
    assert row.fields["room"] == room
    expected_compound = compound.removeprefix("武汉市江岸区") or None
    assert row.fields.get("compound") == expected_compound


# --- addresses and places


@pytest.mark.parametrize(
    ("text", "compound", "building", "number", "entrance", "room"),
    [
        ("3-2-501", None, "3", "3", 2, "501"),
        ("3栋2单元501室", None, "3栋", "3", 2, "501"),
        ("3幢501室", None, "3幢", "3", None, "501"),
        ("3号楼2单元501", None, "3号楼", "3", 2, "501"),
        ("3-501", None, "3", "3", None, "501"),
        ("阳光花园3栋2单元501室", "阳光花园", "3栋", "3", 2, "501"),
        ("幸福路12号阳光花园3号楼1单元101", "阳光花园", "3号楼", "3", 1, "101"),
        ("幸福路12号3-2-501", None, "3", "3", 2, "501"),
        ("三栋二单元501", None, "三栋", "3", 2, "501"),
        ("A座1203室", None, "A座", "A", None, "1203"),
        ("阳光花园 3栋 2单元 501室（出租）", "阳光花园", "3栋", "3", 2, "501"),
        ("张庄12号", None, "张庄12号", None, None, ""),
        ("东庄村张庄12号", None, "张庄12号", None, None, ""),
    ],
)
def test_it_splits_combined_addresses(text, compound, building, number, entrance, room):
    parts = n.parse_address(n.clean_text(text))
    assert parts == n.AddressParts(compound, building, number, entrance, room)


def test_it_reports_an_address_it_cannot_split():
    row = parse_row({"姓名": "张三", "现住址": "阳光花园"})
    assert codes(row) == ["address_unparsed"]
    assert row.problems[0].column == "现住址"
    assert row.fields["address"] == "阳光花园"


def test_it_prefers_separate_place_columns_and_keeps_the_address_as_written():
    row = parse_row({"姓名": "张三", "楼栋": "5号楼", "房号": "1201", "住址": "阳光花园"})
    assert row.ok
    assert (row.fields["building"], row.fields["building_number"], row.fields["room"]) == ("5号楼", "5", "1201")
    assert row.fields["address"] == "阳光花园"


def test_it_takes_entrance_and_room_from_the_address_when_only_the_building_has_a_column():
    row = parse_row({"姓名": "张三", "楼号": 3.0, "详细地址": "2单元501室"})
    assert row.ok
    assert (row.fields["building_number"], row.fields["entrance"], row.fields["room"]) == ("3", 2, "501")


@pytest.mark.parametrize(
    ("cell", "number"), [("3号楼", "3"), ("3", "3"), (3.0, "3"), ("3.0", "3"), ("三栋", "3"), ("03幢", "3")]
)
def test_it_normalises_building_columns_to_a_number(cell, number):
    row = parse_row({"姓名": "张三", "楼栋": cell, "房号": 501.0})
    assert row.fields["building_number"] == number
    assert row.fields["room"] == "501"


def test_it_reads_a_room_column_holding_entrance_and_room():
    row = parse_row({"姓名": "张三", "楼栋": "3", "房号": "2-501"})
    assert (row.fields["entrance"], row.fields["room"]) == (2, "501")


# --- identity: ID numbers, phones, sex, age


def test_it_reports_an_id_number_saved_as_a_number_without_showing_it():
    row = parse_row({"姓名": "张三", "身份证号": float(ID)})
    assert codes(row) == ["id_number_as_number"]
    assert "id_number" not in row.fields
    assert not leaks(row.problems[0].value)
    assert "*" in row.problems[0].value


def test_it_reports_an_id_number_in_scientific_notation_from_a_csv():
    row = parse_row({"姓名": "张三", "身份证号": "4.20102E+17"})
    assert codes(row) == ["id_number_as_number"]


def test_it_masks_an_id_number_or_mobile_typed_into_another_column():
    row = parse_row({"姓名": "张三", "返回时间": ID, "体温": "17012345678"})
    assert codes(row) == ["date_invalid", "temperature_invalid"]
    assert [problem.value for problem in row.problems] == ["*" * 14 + ID[-4:], "170****5678"]


def test_it_accepts_a_15_digit_legacy_number_stored_as_a_number():
    legacy = make_id_number("110105", date(1949, 12, 31), 2)
    row = parse_row({"姓名": "赵六", "身份证号": float(legacy[:6] + legacy[8:17])})
    assert row.fields["id_number"] == legacy


def test_it_reports_an_invalid_id_number_masked_with_the_reason():
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    row = parse_row({"姓名": "张三", "身份证号码": wrong})
    problem = row.problems[0]
    assert (problem.code, problem.column, problem.row) == ("id_number_invalid", "身份证号码", 2)
    assert problem.value == "*" * 14 + wrong[-4:]
    with translation.override("en"):
        assert "check digit" in str(problem.message)
        assert wrong not in str(problem.message)


def test_it_keeps_a_passport_when_the_id_type_column_says_so():
    row = parse_row({"姓名": "Maria Rossi", "证件类型": "护照", "证件号码": "ya 1234567"})
    assert row.ok
    assert (row.fields["id_type"], row.fields["id_number"]) == (Resident.IdType.PASSPORT, "YA1234567")
    assert "birth_date" not in row.fields


def test_it_detects_a_chinese_id_even_when_the_type_column_says_other():
    row = parse_row({"姓名": "张三", "证件类型": "其他", "证件号码": ID})
    assert row.fields["id_type"] == Resident.IdType.RESIDENT_ID


def test_it_reports_a_passport_number_without_a_type_column():
    row = parse_row({"姓名": "Maria Rossi", "证件号码": "YA1234567"})
    assert codes(row) == ["id_number_invalid"]


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        (17012345678.0, "17012345678"),
        (17012345678, "17012345678"),
        ("170 1234 5678", "17012345678"),
        ("+86-170-1234-5678", "17012345678"),
        ("１７０１２３４５６７８", "17012345678"),
        ("17012345678(本人)", "17012345678"),
        ("17012345678/17087654321", "17012345678"),
        ("(0571)8888-0004", "057188880004"),
    ],
)
def test_it_normalises_phones(cell, phone):
    row = parse_row({"姓名": "张三", "联系电话(手机)": cell})
    assert row.ok, codes(row)
    assert row.fields["phone"] == phone


def test_it_reports_an_invalid_phone_masked():
    row = parse_row({"姓名": "张三", "手机号": "1701234567"})
    assert codes(row) == ["phone_invalid"]
    assert row.problems[0].value == "******4567"


def test_it_derives_sex_and_birth_date_from_the_id_and_flags_contradictions():
    row = parse_row({"姓名": "张三", "性别": "女", "年龄": 40, "出生日期": "1990-03-08", "身份证号": ID})
    assert codes(row) == ["sex_conflicts_id", "age_conflicts_id", "birth_date_conflicts_id"]
    assert (row.fields["sex"], row.fields["birth_date"]) == ("M", date(1990, 3, 7))


def test_it_allows_an_age_one_year_off_the_id():
    row = parse_row({"姓名": "张三", "年龄": "30岁", "身份证号": ID})  # 29 on 2020-02-10
    assert row.ok
    assert row.fields["age"] == 30


def test_it_takes_a_lower_age_as_a_stale_list_and_lets_the_id_decide():
    row = parse_row({"姓名": "张三", "年龄": "25", "身份证号": ID})  # a list made years ago
    assert row.ok
    assert row.fields["birth_date"] == date(1990, 3, 7)


@pytest.mark.parametrize(("cell", "sex"), [("男", "M"), ("女性", "F"), ("M", "M"), ("female", "F")])
def test_it_reads_sex(cell, sex):
    assert parse_row({"姓名": "张三", "性别": cell}).fields["sex"] == sex


def test_it_reports_what_it_cannot_read_in_a_row():
    row = parse_row({"姓名": "", "性别": "未知", "年龄": "三十", "体温": "正常", "返回时间": "昨天"})
    assert codes(row) == ["name_missing", "sex_invalid", "age_invalid", "temperature_invalid", "date_invalid"]
    assert [problem.column for problem in row.problems] == ["姓名", "性别", "年龄", "体温", "返回时间"]
    assert not row.ok


# --- other fields


@pytest.mark.parametrize(
    ("cell", "degrees"), [(36.5, 36.5), ("36.5℃", 36.5), ("36.5度", 36.5), ("37", 37.0), ("36,9", 36.9)]
)
def test_it_reads_temperatures(cell, degrees):
    assert parse_row({"姓名": "张三", "体温": cell}).fields["temperature"] == degrees


def test_it_flags_an_implausible_temperature():
    assert codes(parse_row({"姓名": "张三", "体温": 34.0})) == ["temperature_implausible"]
    assert codes(parse_row({"姓名": "张三", "体温": "45℃"})) == ["temperature_implausible"]


@pytest.mark.parametrize(
    ("cell", "transport"),
    [
        ("火车", Movement.Transport.TRAIN),
        ("高铁", Movement.Transport.TRAIN),
        ("动车", Movement.Transport.TRAIN),
        ("飞机", Movement.Transport.FLIGHT),
        ("航班", Movement.Transport.FLIGHT),
        ("大巴", Movement.Transport.COACH),
        ("客车", Movement.Transport.COACH),
        ("汽车", Movement.Transport.COACH),
        ("自驾", Movement.Transport.CAR),
        ("私家车", Movement.Transport.CAR),
        ("自驾小汽车", Movement.Transport.CAR),
        ("轮船", Movement.Transport.SHIP),
        ("步行", Movement.Transport.OTHER),
    ],
)
def test_it_maps_transport(cell, transport):
    assert n.parse_transport(cell) == transport


def test_it_upper_cases_trip_numbers_and_infers_the_transport():
    row = parse_row({"姓名": "张三", "车次": "g 1234"})
    assert (row.fields["trip_number"], row.fields["transport"]) == ("G1234", Movement.Transport.TRAIN)
    row = parse_row({"姓名": "张三", "航班号": "ca1234"})
    assert (row.fields["trip_number"], row.fields["transport"]) == ("CA1234", Movement.Transport.FLIGHT)
    row = parse_row({"姓名": "张三", "车牌号": "鄂a·12345"})
    assert row.fields["trip_number"] == "鄂A12345"
    assert "transport" not in row.fields  # a plate could be a car or a coach
    row = parse_row({"姓名": "张三", "交通方式": "乘坐高铁G1234"})
    assert (row.fields["trip_number"], row.fields["transport"]) == ("G1234", Movement.Transport.TRAIN)


@pytest.mark.parametrize(
    ("cell", "person_type"),
    [
        ("本地", Resident.PersonType.REGISTERED),
        ("户籍人口", Resident.PersonType.REGISTERED),
        ("外来人员", Resident.PersonType.MIGRANT),
        ("流动人口", Resident.PersonType.MIGRANT),
        ("外地", Resident.PersonType.MIGRANT),
        ("境外", Resident.PersonType.OVERSEAS),
        ("外籍", Resident.PersonType.OVERSEAS),
        ("港澳台", Resident.PersonType.OVERSEAS),
        ("密切接触者", None),
    ],
)
def test_it_maps_person_types(cell, person_type):
    assert n.parse_person_type(cell) == person_type


@pytest.mark.parametrize(
    ("cell", "relation"),
    [
        ("户主", "head"),
        ("本人", "head"),
        ("配偶", "spouse"),
        ("妻", "spouse"),
        ("丈夫", "spouse"),
        ("长子", "child"),
        ("女儿", "child"),
        ("户主之子", "child"),
        ("父亲", "parent"),
        ("母", "parent"),
        ("孙子", "grandchild"),
        ("外孙女", "grandchild"),
        ("祖母", "grandparent"),
        ("弟弟", "sibling"),
        ("租户", "tenant"),
        ("女婿", "other"),
        ("儿媳", "other"),
        ("Spouse", "spouse"),
        ("朋友", "other"),
    ],
)
def test_it_maps_relations_to_the_head(cell, relation):
    assert n.parse_relation(cell) == relation


def test_it_empties_symptoms_that_say_none_and_keeps_the_rest():
    assert parse_row({"姓名": "张三", "症状": "无"}).fields["symptoms"] == ""
    assert parse_row({"姓名": "张三", "症状": "咳嗽、乏力"}).fields["symptoms"] == "咳嗽、乏力"


def test_it_keeps_the_departure_time_of_a_rail_ticket():
    row = parse_row({"姓名": "张三", "开车时间": datetime(2020, 1, 22, 8, 30)})
    assert row.fields["departed_on"] == date(2020, 1, 22)
    assert row.fields["departed_at"].isoformat() == "2020-01-22T08:30:00+08:00"
    row = parse_row({"姓名": "张三", "开车时间": "2020/1/22"})
    assert "departed_at" not in row.fields


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u3000张三\u00a0", "张三"),
        ("张\u200b三", "张三"),
        ("张 三", "张三"),
        ("Maria  Rossi", "Maria Rossi"),
        ("ＡＢＣ１２３", "ABC123"),
    ],
)
def test_it_cleans_names(raw, clean):
    assert parse_row({"姓名": raw}).fields["name"] == clean


def test_it_survives_numbers_that_are_not_numbers():
    for value in (float("nan"), float("inf"), -float("inf")):
        text = n.cell_text(value)
        assert n.parse_age(value, text) is None
        assert n.parse_date(value, text, TODAY) is None
        assert n.parse_temperature(value, text) is None


@pytest.mark.parametrize(("value", "text"), [(13812345678.0, "13812345678"), (501.0, "501"), (36.5, "36.5")])
def test_it_turns_calamine_floats_back_into_text(value, text):
    assert n.cell_text(value) == text


def test_it_takes_the_first_non_empty_of_two_columns_for_one_field():
    row = parse_row({"姓名": "张三", "联系电话": "", "联系方式": "17012345678"})
    assert row.fields["phone"] == "17012345678"
    assert row.raw["phone"] == "17012345678"


# --- headers


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("联系电话(手机)", "phone"),
        ("联系电话（手机）：", "phone"),
        ("*身份证号码", "id_number"),
        (" 姓 名 ", "name"),
        ("姓名:", "name"),
        ("体温(℃)", "temperature"),
        ("车次/航班/车牌", "trip_number"),
        ("车次（航班）", "trip_number"),
        ("ID Number", "id_number"),
        ("Phone", "phone"),
        ("Arrival Date", "arrived_on"),
        ("Trip_Number", "trip_number"),
        ("序号", None),
        ("", None),
    ],
)
def test_it_matches_headers_ignoring_case_spaces_brackets_and_colons(header, field):
    assert field_for_header(header) == field


def test_it_has_no_alias_that_means_two_fields():
    seen: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            key = header_key(alias)
            assert seen.setdefault(key, field) == field, f"{alias!r} maps to {seen[key]} and {field}"


def test_it_documents_every_alias_in_import_formats():
    """The column-name table: | `field` | value | Chinese aliases | English aliases |."""
    documented: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].strip("`") in ALIASES:
            documented[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[2] + cells[3]))
    assert set(documented) == set(ALIASES)
    for field, aliases in ALIASES.items():
        missing, extra = set(aliases) - documented[field], documented[field] - set(aliases)
        assert not missing, f"add to the {field} row of docs/import-formats.md: {sorted(missing)}"
        assert not extra, f"the {field} row of docs/import-formats.md lists aliases the code lacks: {sorted(extra)}"


def test_it_finds_the_header_below_title_rows():
    rows = [
        ["幸福街道返乡人员登记表"],
        ["填报单位：幸福社区", "", "联系电话：17012345678", "日期：2020-01-28"],
        [],
        ["序号", "姓名", "性别", "身份证号"],
        [1, "张三", "男", ID],
    ]
    assert find_header(rows) == 3


def test_it_finds_no_header_in_a_sheet_without_known_columns():
    assert find_header([["a", "b"], [1, 2]]) is None
    assert find_header([[""] * 3] * 15 + [["姓名", "身份证号"]]) is None  # below the first 15 rows


# --- reading files


def test_it_numbers_rows_and_columns_as_excel_shows_them(tmp_path):
    rows = [
        [],
        [],
        ["", "", "登记表"],
        [],
        ["", "", "姓名", "", "身份证号"],
        ["", "", "张三", "", ID],
        [],
        ["", "", "李四"],
    ]
    path = write_xlsx(tmp_path / "offset.xlsx", rows)
    sheet = read_sheet(path, today=TODAY)
    assert sheet.header_row == 5
    assert [(column.index, column.header, column.field) for column in sheet.columns] == [
        (2, "姓名", "name"),
        (4, "身份证号", "id_number"),
    ]
    assert [row.row for row in sheet.rows] == [6, 8]
    assert sheet.filename == "offset.xlsx"


def test_it_skips_blank_and_pre_numbered_rows(tmp_path):
    rows = [["序号", "姓名", "身份证号"], [1, "张三", ID], [2, "", ""], ["", "", ""], [4, "李四", ""]]
    sheet = read_sheet(write_xlsx(tmp_path / "numbered.xlsx", rows), today=TODAY)
    assert [(row.row, row.fields["name"]) for row in sheet.rows] == [(2, "张三"), (5, "李四")]
    assert sheet.unmapped == ["序号"]


def test_it_folds_a_two_row_header(tmp_path):
    rows = [
        ["姓名", "身份证号", "返回信息", ""],
        ["", "", "返回时间", "交通方式"],
        ["张三", ID, "2020-01-23", "高铁"],
    ]
    sheet = read_sheet(write_xlsx(tmp_path / "two-rows.xlsx", rows), today=TODAY)
    assert [column.field for column in sheet.columns] == ["name", "id_number", "arrived_on", "transport"]
    assert sheet.header_row == 1
    assert [row.row for row in sheet.rows] == [3]
    assert sheet.rows[0].fields["arrived_on"] == date(2020, 1, 23)


def test_it_gives_a_cell_merged_down_a_household_to_each_of_its_rows(tmp_path):
    import xlsxwriter

    path = tmp_path / "household-ledger.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(1, 1, ["姓名", "与户主关系", "住址", "备注"])
    sheet.merge_range(2, 3, 5, 3, "阳光花园3-2-501")  # one address for the family, and a blank line under it
    for offset, (name, relation) in enumerate([("张三", "户主"), ("李四", "妻"), ("张小三", "子")]):
        sheet.write_row(2 + offset, 1, [name, relation])
    sheet.merge_range(2, 4, 3, 4, "")
    sheet.write(6, 1, "王五")
    sheet.write(6, 3, "3-2-502")
    workbook.close()
    parsed = read_sheet(path, today=TODAY)
    assert [(row.row, row.fields["name"], row.fields.get("room")) for row in parsed.rows] == [
        (3, "张三", "501"),
        (4, "李四", "501"),
        (5, "张小三", "501"),
        (7, "王五", "502"),
    ]
    assert all(row.ok for row in parsed.rows)


def test_it_reads_the_first_sheet_with_a_header(tmp_path):
    import xlsxwriter

    path = tmp_path / "two-sheets.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("说明").write(0, 0, "填表说明：请如实填写")
    data = workbook.add_worksheet("名单")
    data.write_row(0, 0, ["姓名", "身份证号"])
    data.write_row(1, 0, ["张三", ID])
    workbook.close()
    sheet = read_sheet(path, today=TODAY)
    assert [row.fields["id_number"] for row in sheet.rows] == [ID]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", False, ","),
        ("utf-8", True, ","),
        ("gbk", False, ","),
        ("gb18030", False, "\t"),
        ("utf-8", False, ";"),
        ("utf-8", False, "，"),
        ("utf-16", False, "\t"),
    ],
)
def test_it_reads_csv_in_any_common_encoding_and_delimiter(tmp_path, encoding, bom, delimiter):
    rows = [
        ["返乡人员名单"],
        ["姓名", "身份证号", "住址"],
        ["张三", ID, "阳光花园3-2-501"],
        ["李四", "", "湖北省，武汉市"],
    ]
    path = write_csv(tmp_path / "list.csv", rows, encoding=encoding, bom=bom, delimiter=delimiter)
    sheet = read_sheet(path, today=TODAY)
    assert sheet.header_row == 2
    assert [row.fields["name"] for row in sheet.rows] == ["张三", "李四"]
    assert sheet.rows[0].fields["id_number"] == ID
    assert sheet.rows[0].fields["room"] == "501"


def test_it_unwraps_numbers_exported_as_text(tmp_path):
    path = tmp_path / "export.csv"
    lines = ["姓名,身份证号,联系电话", f'张三,="{ID}",\'17012345678', f"李四,'{ID}, 17012345679 "]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = read_sheet(path, today=TODAY)
    assert [(row.fields["id_number"], row.fields["phone"]) for row in parsed.rows] == [
        (ID, "17012345678"),
        (ID, "17012345679"),
    ]


def test_it_reads_by_content_not_by_name(tmp_path):
    rows = [["姓名", "身份证号"], ["张三", ID]]
    xlsx_named_xls = write_xlsx(tmp_path / "list.xlsx", rows).rename(tmp_path / "list.xls")
    xls_named_xlsx = write_xls(tmp_path / "old.xls", rows).rename(tmp_path / "old.xlsx")
    text_named_xls = write_csv(tmp_path / "export.csv", rows, delimiter="\t").rename(tmp_path / "export.xls")
    for path in (xlsx_named_xls, xls_named_xlsx, text_named_xls):
        assert read_sheet(path, today=TODAY).rows[0].fields["id_number"] == ID


def test_it_prefers_a_visible_sheet_to_a_hidden_one(tmp_path):
    import xlsxwriter

    path = tmp_path / "hidden.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    old = workbook.add_worksheet("旧名单")
    old.write_row(0, 0, ["姓名", "身份证号"])
    old.write_row(1, 0, ["旧人", ""])
    old.hide()
    current = workbook.add_worksheet("名单")
    current.write_row(0, 0, ["姓名", "身份证号"])
    current.write_row(1, 0, ["张三", ID])
    current.activate()
    workbook.close()
    assert [row.fields["name"] for row in read_sheet(path, today=TODAY).rows] == ["张三"]


def test_it_uses_the_uploaded_filename(tmp_path):
    path = write_xlsx(tmp_path / "upload-7f3a", [["姓名", "电话"], ["张三", "17012345678"]])
    assert read_sheet(path, "返乡人员.xlsx", today=TODAY).filename == "返乡人员.xlsx"


# --- unreadable files


def _unreadable(path: Path, filename: str | None = None) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as error:
        read_sheet(path, filename, today=TODAY)
    return error.value


def test_it_refuses_an_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert _unreadable(path).code == "empty"
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    assert _unreadable(path).code == "empty"


def test_it_refuses_random_bytes_named_xlsx(tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(bytes(range(256)) * 20)
    assert _unreadable(path).code == "not_a_spreadsheet"


def test_it_refuses_a_broken_zip_named_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", [["姓名", "身份证号"], ["张三", ID]])
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good.read_bytes()[:600])
    assert _unreadable(path).code == "not_a_spreadsheet"


def test_it_refuses_a_web_page_saved_as_xls(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>姓名</td><td>身份证号</td></tr></table></body></html>")
    assert _unreadable(path).code == "not_a_spreadsheet"


def test_it_refuses_a_password_protected_workbook(tmp_path):
    # A protected .xlsx is an OLE container with an EncryptionInfo stream instead of the workbook.
    path = tmp_path / "protected.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le"))
    error = _unreadable(path)
    assert error.code == "password"
    with translation.override("en"):
        assert "password" in str(error)


def test_it_refuses_a_text_file_with_a_cell_no_person_wrote(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text('姓名,身份证号\n张三,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    assert _unreadable(path).code == "not_a_spreadsheet"


def test_it_refuses_a_workbook_without_data(tmp_path):
    import xlsxwriter

    path = tmp_path / "nothing.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet()
    workbook.close()
    assert _unreadable(path).code == "no_data"


def test_it_refuses_a_sheet_with_no_recognisable_header(tmp_path):
    path = write_xlsx(tmp_path / "accounts.xlsx", [["科目", "金额"], ["口罩", 300], ["消毒液", 120]])
    error = _unreadable(path)
    assert error.code == "no_header"
    with translation.override("en"):
        assert "header" in str(error)


# --- messages


def test_it_has_a_message_for_every_problem_in_both_languages():
    for code, message in MESSAGES.items():
        for language in ("en", "zh-hans"):
            with translation.override(language):
                assert str(message).strip(), code


def test_a_cell_holding_a_nul_is_a_problem_of_its_row_and_stored_without_it():
    row = parse_row({"姓名": "张\x00三", "身份证号": ID})
    assert codes(row) == ["nul_in_text"]
    assert row.problems[0].column == "姓名" and "\x00" not in row.problems[0].value
    assert "\x00" not in repr(row.fields) and "\x00" not in repr(row.raw)
    only = parse_row({"姓名": "李四", "备注": "\x00"})
    assert codes(only) == ["nul_in_text"]
