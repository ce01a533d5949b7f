"""Column headers → canonical fields, and finding the header row below any title rows.

``ALIASES`` is the one alias table; ``docs/import-formats.md`` lists it by hand and
a test checks that every alias here appears there. A header matches an alias after
``header_key``: full-width → half-width, lower case, spaces, ``* : ： / 、 _ -`` and
bracketed remarks dropped (``联系电话(手机)`` → ``联系电话``; ``体温（℃）`` → ``体温``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from firstline.people.importing.normalise import cell_text

# field → aliases as a worker writes them. Keep in step with docs/import-formats.md.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "居民姓名", "旅客姓名", "乘客姓名", "name", "full name"),
    "sex": ("性别", "sex", "gender"),
    "age": ("年龄", "周岁", "age"),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "生日", "birth date", "date of birth", "dob", "birthday"),
    "id_type": ("证件类型", "证件类别", "证件种类", "id type", "document type"),
    "id_number": (
        "身份证号",
        "身份证",
        "身份证号码",
        "证件号码",
        "证件号",
        "公民身份号码",
        "身份证件号码",
        "id number",
        "id no",
        "id card",
        "id card number",
        "identity number",
        "document number",
    ),
    "phone": (
        "联系电话",
        "联系方式",
        "手机号",
        "手机号码",
        "手机",
        "电话",
        "电话号码",
        "本人电话",
        "phone",
        "phone number",
        "mobile",
        "telephone",
        "tel",
    ),
    "domicile": (
        "户籍地",
        "常住地址",
        "户籍地址",
        "户籍所在地",
        "户口所在地",
        "户籍",
        "domicile",
        "registered address",
    ),
    "address": (
        "现住址",
        "住址",
        "楼号单元房间号",
        "现居住地址",
        "详细地址",
        "家庭住址",
        "居住地址",
        "现居住地",
        "地址",
        "address",
        "current address",
        "home address",
    ),
    "compound": ("小区", "小区名称", "所在小区", "居住小区", "compound", "estate"),
    "building": ("楼栋", "楼号", "幢", "栋", "楼栋号", "幢号", "栋号", "building", "building number", "block"),
    "entrance": ("单元", "单元号", "entrance", "unit", "stairwell"),
    "room": ("房号", "门牌", "门牌号", "房间号", "房间", "室", "户号", "room", "room number", "flat", "apartment"),
    "person_type": ("人员类别", "人员类型", "人口类型", "人员性质", "person type", "category"),
    "origin": (
        "来源地",
        "从何地返回",
        "何处返程",
        "始发地",
        "出发地",
        "从何地来",
        "来自",
        "返回前所在地",
        "origin",
        "from",
        "came from",
    ),
    "arrived_on": (
        "返回时间",
        "到达时间",
        "抵达时间",
        "返回日期",
        "到达日期",
        "抵达日期",
        "返乡时间",
        "返乡日期",
        "arrival date",
        "arrived on",
        "arrival",
        "date of arrival",
        "return date",
    ),
    "departed_on": (
        "开车时间",
        "发车时间",
        "出发时间",
        "出发日期",
        "离开时间",
        "离开日期",
        "乘车日期",
        "乘车时间",
        "departure date",
        "departure time",
        "departed on",
    ),
    "destination": ("目的地", "到达地", "前往地", "去向", "destination", "going to"),
    "transport": ("交通方式", "出行方式", "交通工具", "返回方式", "返程方式", "transport", "travel mode"),
    "trip_number": (
        "车次",
        "航班",
        "车牌",
        "车次航班号",
        "车牌号",
        "航班号",
        "车次航班",
        "车次航班车牌",
        "车次航班车牌号",
        "乘坐车次",
        "trip number",
        "train number",
        "flight number",
        "train",
        "flight",
        "plate number",
    ),
    "carriage": ("车厢号", "车厢", "carriage", "carriage number"),
    "seat": ("座位号", "座位", "座号", "铺位", "seat", "seat number"),
    "companions": ("同行人员", "同行人", "随行人员", "companions", "travelling with"),
    "temperature": ("体温", "测量体温", "今日体温", "temperature", "temp", "body temperature"),
    "symptoms": ("症状", "有无症状", "身体状况", "健康状况", "symptoms"),
    "measures": ("管控措施", "采取措施", "防控措施", "管理措施", "措施", "measures", "control measures"),
    "isolation_place": ("隔离地点", "隔离场所", "隔离点", "隔离酒店", "isolation place", "quarantine place"),
    "isolation_start": (
        "隔离开始日期",
        "入住时间",
        "隔离开始时间",
        "入住日期",
        "开始隔离日期",
        "开始隔离时间",
        "isolation start",
        "quarantine start",
    ),
    "isolation_end": (
        "解除隔离日期",
        "解除隔离时间",
        "隔离结束日期",
        "隔离结束时间",
        "隔离期满日期",
        "isolation end",
        "quarantine end",
    ),
    "notes": ("备注", "说明", "notes", "note", "remarks", "comments"),
    "batch": ("下发批次", "批次", "批次号", "batch", "batch number"),
    "relation_to_head": ("与户主关系", "户主关系", "与户主的关系", "relation to head", "relationship"),
    "workplace": ("工作单位", "单位", "工作单位或学校", "就读学校", "workplace", "employer", "school"),
}

HEADER_SEARCH_ROWS = 15  # the header must be within the first 15 rows of the sheet
MIN_HEADER_MATCHES = 2

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|<[^>]*>")
_EDGE_SPACE = " \t\r\n\u3000\xa0\u200b\ufeff"
_DROPPED = re.compile(r"[\s*:/、,_\-.#№]+")


def header_key(text: str) -> str:
    """The form headers and aliases are compared in: ``" 联系电话（手机）："`` → ``"联系电话"``."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _DROPPED.sub("", _BRACKETED.sub("", text))


def _bracket_free_key(text: str) -> str:
    """Second chance for ``车次(航班)`` → ``车次航班``: keep the bracketed words, drop only the brackets."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _DROPPED.sub("", re.sub(r"[()\[\]【】<>]", "", text))


FIELD_BY_KEY: dict[str, str] = {header_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}


def field_for_header(text: str) -> str | None:
    if not text:
        return None
    return FIELD_BY_KEY.get(header_key(text)) or FIELD_BY_KEY.get(_bracket_free_key(text))


def header_fields(cells: Sequence[Any]) -> list[tuple[int, str, str | None]]:
    """(position, header text as written, field) of every non-empty cell of a candidate header row."""
    found = []
    for position, cell in enumerate(cells):
        text = cell.strip(_EDGE_SPACE) if type(cell) is str else cell_text(cell)
        if text:
            found.append((position, text, field_for_header(text)))
    return found


def count_matches(cells: Sequence[Any]) -> int:
    return len({field for _, _, field in header_fields(cells) if field})


def find_header(rows: Sequence[Sequence[Any]]) -> int | None:
    """Index (in ``rows``) of the header: the row naming the most known columns, at least two; earliest on a tie.

    Title rows above (``XX街道返乡人员登记表``, ``填报单位：… 日期：…``) name at most one known column.
    """
    best, best_count = None, MIN_HEADER_MATCHES - 1
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = count_matches(cells)
        if count > best_count:
            best, best_count = index, count
    return best


def merge_sub_header(
    header: list[tuple[int, str, str | None]], below: Sequence[Any]
) -> list[tuple[int, str, str | None]] | None:
    """Two-row headers (a merged ``返回信息`` over ``返回时间 | 交通方式``): fold the second row in.

    The row below counts as a sub-header only when it names at least two known columns, all under
    header cells that are empty or not recognised; otherwise it is data and None is returned.
    """
    recognised = {position for position, _, field in header if field}
    sub = [(position, text, field) for position, text, field in header_fields(below) if field]
    if len({field for _, _, field in sub}) < MIN_HEADER_MATCHES or any(pos in recognised for pos, _, _ in sub):
        return None
    replaced = {position: (position, text, field) for position, text, field in sub}
    merged = [replaced.pop(position, (position, text, field)) for position, text, field in header]
    merged.extend(replaced.values())
    return sorted(merged)
