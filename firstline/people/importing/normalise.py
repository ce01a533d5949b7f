"""Cell normalisers: one messy spreadsheet value in, one clean Python value (or ``None``) out.

Pure functions, no Django database access. They run once per cell of files with
100,000 rows, so the regexes are compiled at import and the common case (a clean
value) is decided by a type check or one regex, never by catching an exception.
``None`` means "not understood"; the caller turns that into a row problem.
ID numbers and phones are validated by ``firstline.people.idcard`` (not here).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from firstline.people.models import Movement, Resident

# --- text

# Zero-width and BOM characters that survive NFKC and hide inside copied cells.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_UNTIDY = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]|\s\s|[\t\n\r\f\v]")
_SPACES = re.compile(r"\s+")
_INTEGRAL_TEXT = re.compile(r"(\d+)\.0+")


def clean_text(value: str) -> str:
    """Full-width → half-width (NFKC), invisible characters dropped, whitespace runs → one space, stripped."""
    if value.isascii():  # O(1) in CPython
        value = value.strip()
        if "  " in value or "\t" in value or "\n" in value or "\r" in value:
            value = _SPACES.sub(" ", value)
        return value
    value = unicodedata.normalize("NFKC", value).strip()  # a clean string comes back unchanged; \u3000 → " "
    if _UNTIDY.search(value):  # rare: only then pay for the rewrite
        value = _SPACES.sub(" ", value.translate(_INVISIBLE)).strip()
    return value


def cell_text(value: Any) -> str:
    """The text a worker sees in a cell: ``13812345678.0`` → ``"13812345678"``, ``501.0`` → ``"501"``."""
    kind = type(value)
    if kind is str:
        return clean_text(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    if kind is datetime:
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if kind is date:
        return value.isoformat()
    if value is None:
        return ""
    return clean_text(str(value))


def integral_text(text: str) -> str:
    """``"3.0"`` (a number that went through a CSV) → ``"3"``; anything else unchanged."""
    match = _INTEGRAL_TEXT.fullmatch(text)
    return match.group(1) if match else text


_CJK_NAME_WITH_SPACES = re.compile(r"[\u3400-\u9fff·]+(?: [\u3400-\u9fff·]+)+")


def normalise_name(text: str) -> str:
    """``"张 三"`` (spaces typed to align two-character names) → ``"张三"``; Latin names keep their spaces."""
    if " " in text and _CJK_NAME_WITH_SPACES.fullmatch(text):
        return text.replace(" ", "")
    return text


# --- numbers written in Chinese (三栋, 二单元)

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_NUMBER = "[一二两三四五六七八九十]{1,3}"


def small_number(text: str) -> int | None:
    """``"12"``, ``"十二"``, ``"二十"``, ``"三"`` → int; anything else → None."""
    if text.isascii() and text.isdigit():
        return int(text)
    if "十" in text:
        tens_text, _, ones_text = text.partition("十")
        tens = _CN_DIGITS.get(tens_text) if tens_text else 1
        ones = _CN_DIGITS.get(ones_text) if ones_text else 0
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    return _CN_DIGITS.get(text) if len(text) == 1 else None


# --- dates

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 once Lotus's phantom 1900-02-29 is accounted for
_TIME = r"(?:[T ]?(?P<H>\d{1,2})[:时点](?:(?P<M>\d{1,2})分?)?(?::(?P<S>\d{1,2})(?:\.\d+)?)?秒?)?"
_YMD = re.compile(r"(?P<y>\d{4}) ?[-/.年] ?(?P<m>\d{1,2}) ?[-/.月] ?(?P<d>\d{1,2}) ?日?" + _TIME)
_COMPACT = re.compile(r"(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})")
_MD = re.compile(r"(?P<m>\d{1,2}) ?[-/.月] ?(?P<d>\d{1,2}) ?日?" + _TIME)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
MIN_YEAR, MAX_YEAR = 1900, 2100


def _make_date(year: int, month: int, day: int) -> date | None:
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > 28 and day > _month_length(year, month):
        return None
    return date(year, month, day)


def _month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _with_time(day: date, match: re.Match[str]) -> date | datetime | None:
    hour = match.group("H")
    if hour is None:
        return day
    h, m, s = int(hour), int(match.group("M") or 0), int(match.group("S") or 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return datetime(day.year, day.month, day.day, h, m, s)


def infer_year(month: int, day: int, today: date) -> date | None:
    """``1月23日`` has no year: take the most recent such date not after ``today`` + 30 days."""
    limit = today + timedelta(days=30)
    for year in range(limit.year, limit.year - 8, -1):  # 8 years back always reaches a 29 February
        candidate = _make_date(year, month, day)
        if candidate is not None and candidate <= limit:
            return candidate
    return None


def excel_serial(number: float) -> date | datetime | None:
    if not 1 <= number < 73051:  # 1900-01-01 … 2099-12-31
        return None
    whole = int(number)
    day = EXCEL_EPOCH + timedelta(days=whole)
    seconds = round((number - whole) * 86400)
    if seconds == 0:
        return day
    if seconds >= 86400:
        return day + timedelta(days=1)
    return datetime.combine(day, time()) + timedelta(seconds=seconds)


def parse_date(value: Any, text: str, today: date) -> date | datetime | None:
    """A date (or a datetime when the cell carries a time of day) from any supported form; None if not understood.

    ``value`` is the cell as read (calamine gives ``date``/``datetime``/``float``), ``text`` its cleaned text.
    """
    kind = type(value)
    if kind is datetime or kind is date:
        return value
    # A number below 100 is "1.23" typed into a number cell: its text is read as month.day below.
    if (kind is float or kind is int) and value >= 100:
        if 19000101 <= value <= 21001231 and value == int(value):
            compact = _COMPACT.fullmatch(str(int(value)))
            return _make_date(int(compact["y"]), int(compact["m"]), int(compact["d"])) if compact else None
        return excel_serial(value)
    match = _YMD.fullmatch(text)
    if match:
        day = _make_date(int(match["y"]), int(match["m"]), int(match["d"]))
        return _with_time(day, match) if day else None
    match = _MD.fullmatch(text)
    if match:
        day = infer_year(int(match["m"]), int(match["d"]), today)
        return _with_time(day, match) if day else None
    match = _COMPACT.fullmatch(text)
    if match:
        return _make_date(int(match["y"]), int(match["m"]), int(match["d"]))
    if _SERIAL.fullmatch(text):
        return excel_serial(float(text))
    return None


# --- numbers


_TEMPERATURE = re.compile(r"(?P<t>\d{2})(?:[.,。](?P<f>\d{1,2}))? ?(?:°C|°|度|C|摄氏度)?", re.IGNORECASE)
TEMPERATURE_RANGE = (35.0, 43.0)


def parse_temperature(value: Any, text: str) -> float | None:
    """``36.5``, ``"36.5℃"`` (NFKC gives ``°C``), ``"36.5度"`` → 36.5; None if not a number of degrees."""
    if type(value) is float or type(value) is int:
        return round(float(value), 2) if math.isfinite(value) else None
    match = _TEMPERATURE.fullmatch(text)
    if not match:
        return None
    return float(f"{match['t']}.{match['f'] or 0}")  # "36,9" and "36。9" are typing slips for 36.9


_AGE = re.compile(r"(?P<a>\d{1,3})(?:\.0+)? ?(?:岁|周岁)?")


def parse_age(value: Any, text: str) -> int | None:
    if type(value) is float or type(value) is int:
        return int(value) if 0 <= value <= 130 and value == int(value) else None  # NaN fails the range first
    match = _AGE.fullmatch(text)
    if not match:
        return None
    age = int(match["a"])
    return age if age <= 130 else None


# --- choices


_SEX = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}


def parse_sex(text: str) -> str | None:
    return _SEX.get(text.lower())


def parse_person_type(text: str) -> str | None:
    """本地/户籍 → registered, 外来/流动/外地 → migrant, 境外/外籍/港澳台 → overseas; None if none of these."""
    lowered = text.lower()
    if any(word in lowered for word in ("境外", "外籍", "港澳", "台湾", "国外", "入境", "overseas", "foreign")):
        return Resident.PersonType.OVERSEAS.value
    if any(word in lowered for word in ("外来", "流动", "外地", "外省", "外市", "租住", "migrant")):
        return Resident.PersonType.MIGRANT.value
    if any(word in lowered for word in ("本地", "户籍", "常住", "本市", "registered", "local")):
        return Resident.PersonType.REGISTERED.value
    return None


_TRANSPORT_WORDS = (
    (Movement.Transport.TRAIN.value, ("火车", "高铁", "动车", "列车", "铁路", "城际", "train", "rail")),
    (Movement.Transport.FLIGHT.value, ("飞机", "航班", "民航", "flight", "plane", "air")),
    (Movement.Transport.SHIP.value, ("轮船", "船", "渡轮", "ship", "ferry", "boat")),
    (Movement.Transport.COACH.value, ("大巴", "客车", "汽车", "巴士", "长途车", "班车", "coach", "bus")),
    (Movement.Transport.CAR.value, ("自驾", "私家车", "小车", "小汽车", "驾车", "car", "drive")),
)


def parse_transport(text: str) -> str:
    lowered = text.lower()
    # 自驾 before 汽车: "自驾小汽车" is a car, and "汽车" alone is a coach.
    if any(word in lowered for word in ("自驾", "私家车", "驾车", "小车", "小汽车")):
        return Movement.Transport.CAR.value
    for transport, words in _TRANSPORT_WORDS:
        if any(word in lowered for word in words):
            return transport
    return Movement.Transport.OTHER.value


_TRAIN_NUMBER = re.compile(r"[GDCZTKYLS]\d{1,4}")
_FLIGHT_NUMBER = re.compile(r"(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{3,4}")
_TRIP_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(?:[GDCZTKgdcztk]\d{1,4}|[A-Za-z]{2}\d{3,4}|[A-Za-z]\d\d{3,4}|\d[A-Za-z]\d{3,4}"
    r"|[\u4e00-\u9fff][A-Za-z][·•]?[A-Za-z0-9]{5,6})(?![A-Za-z0-9])"
)
_TRIP_JUNK = re.compile(r"[\s·•\-]")


def normalise_trip_number(text: str) -> str:
    """``"g 1234"`` → ``"G1234"``; ``"鄂a·12345"`` → ``"鄂A12345"``."""
    return _TRIP_JUNK.sub("", text).upper()


def trip_in_text(text: str) -> str | None:
    """The train/flight/plate number inside a transport cell like ``"高铁G1234"``, if any."""
    match = _TRIP_IN_TEXT.search(text)
    return normalise_trip_number(match.group()) if match else None


def transport_from_trip(trip: str) -> str | None:
    if _TRAIN_NUMBER.fullmatch(trip):
        return Movement.Transport.TRAIN.value
    if _FLIGHT_NUMBER.fullmatch(trip):
        return Movement.Transport.FLIGHT.value
    return None


def parse_id_type(text: str) -> str:
    lowered = text.lower()
    if "身份证" in lowered or "居民身份" in lowered or "id card" in lowered or lowered in ("身份", "id"):
        return Resident.IdType.RESIDENT_ID.value
    if "护照" in lowered or "passport" in lowered:
        return Resident.IdType.PASSPORT.value
    if "港澳" in lowered or "回乡" in lowered or "hong kong" in lowered or "macao" in lowered:
        return Resident.IdType.HK_MACAO.value
    if "台" in lowered or "taiwan" in lowered:
        return Resident.IdType.TAIWAN.value
    return Resident.IdType.OTHER.value


# In-laws first (女婿 contains 女, 姐夫 contains 夫), then kin before 户主 ("户主之子" is a child).
_RELATIONS = (
    (Resident.Relation.OTHER.value, ("婿", "媳", "嫂", "姐夫", "妹夫", "岳", "公公", "婆婆", "亲家")),
    (Resident.Relation.GRANDPARENT.value, ("祖", "爷", "奶", "外公", "外婆", "姥")),
    (Resident.Relation.GRANDCHILD.value, ("孙",)),
    (Resident.Relation.SPOUSE.value, ("配偶", "妻", "夫", "爱人", "老伴")),
    (Resident.Relation.PARENT.value, ("父", "母", "爸", "妈")),
    (Resident.Relation.CHILD.value, ("子", "女", "儿")),
    (Resident.Relation.SIBLING.value, ("兄", "弟", "姐", "妹", "哥")),
    (Resident.Relation.HEAD.value, ("户主", "本人")),
    (Resident.Relation.TENANT.value, ("租",)),
)
_RELATIONS_EN = {
    "head": Resident.Relation.HEAD.value,
    "self": Resident.Relation.HEAD.value,
    "spouse": Resident.Relation.SPOUSE.value,
    "wife": Resident.Relation.SPOUSE.value,
    "husband": Resident.Relation.SPOUSE.value,
    "child": Resident.Relation.CHILD.value,
    "son": Resident.Relation.CHILD.value,
    "daughter": Resident.Relation.CHILD.value,
    "parent": Resident.Relation.PARENT.value,
    "father": Resident.Relation.PARENT.value,
    "mother": Resident.Relation.PARENT.value,
    "grandchild": Resident.Relation.GRANDCHILD.value,
    "grandson": Resident.Relation.GRANDCHILD.value,
    "granddaughter": Resident.Relation.GRANDCHILD.value,
    "grandparent": Resident.Relation.GRANDPARENT.value,
    "grandfather": Resident.Relation.GRANDPARENT.value,
    "grandmother": Resident.Relation.GRANDPARENT.value,
    "sibling": Resident.Relation.SIBLING.value,
    "brother": Resident.Relation.SIBLING.value,
    "sister": Resident.Relation.SIBLING.value,
    "tenant": Resident.Relation.TENANT.value,
    "lodger": Resident.Relation.TENANT.value,
}


def parse_relation(text: str) -> str:
    """与户主关系 → a ``Resident.Relation`` value; anything not recognised is ``other``."""
    if text.isascii():
        return _RELATIONS_EN.get(text.lower(), Resident.Relation.OTHER.value)
    for relation, words in _RELATIONS:
        if any(word in text for word in words):
            return relation
    return Resident.Relation.OTHER.value


_NO_SYMPTOMS = frozenset(
    {"无", "没有", "无症状", "否", "正常", "无异常", "未见异常", "/", "-", "—", "none", "no", "n/a"}
)


def normalise_symptoms(text: str) -> str:
    return "" if text.lower() in _NO_SYMPTOMS else text


# --- addresses

_BUILDING = rf"(?P<bnum>\d{{1,4}}|(?<![A-Za-z])[A-Za-z]\d{{0,3}}|{CN_NUMBER})"
_BUILDING_MARK = r"(?P<bmark>号楼|号栋|号幢|栋|幢|座|号|-)"
_ENTRANCE = rf"(?:(?P<entrance>\d{{1,2}}|{CN_NUMBER})(?:单元|门|-))"
_ROOM = r"(?P<room>\d{1,5}[A-Za-z]?)(?:室|号|房|户)?"
_ADDRESS = re.compile(rf"(?P<building>{_BUILDING}{_BUILDING_MARK}){_ENTRANCE}?{_ROOM}$")
_ENTRANCE_ROOM = re.compile(rf"{_ENTRANCE}?{_ROOM}")
_HOUSE = re.compile(r"(?P<num>\d{1,4})号$")
_BUILDING_CELL = re.compile(rf"{_BUILDING}(?:号楼|号栋|号幢|栋|幢|座|号)?")
_ENTRANCE_CELL = re.compile(rf"(?P<entrance>\d{{1,2}}|{CN_NUMBER})(?:单元|门)?")
_ROOM_CELL = re.compile(r"(?P<room>[0-9A-Za-z]{1,8})(?:室|号|房|户)?")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_PLACE_SEPARATORS = "省市县区镇乡街道路巷号弄"
_ROAD_ENDINGS = ("路", "街", "巷", "道", "弄")
_VILLAGE_SEPARATORS = "村组社屯队"


@dataclass(frozen=True)
class AddressParts:
    compound: str | None
    building: str  # as written: "3栋", "3号楼", "3" (from 3-2-501), "张庄12号"
    building_number: str | None  # "3", "A"; None for a village house, matched by its name
    entrance: int | None
    room: str  # "" for a village house


def building_number(token: str) -> str:
    """``"3"``/``"三"``/``"a"`` → ``"3"``/``"3"``/``"A"``."""
    if token.isascii():
        return (token.lstrip("0") or "0") if token.isdigit() else token.upper()
    number = small_number(token)
    return str(number) if number is not None else token


def compound_from_prefix(prefix: str) -> str | None:
    """The estate name before the building: ``"武汉市江岸区阳光花园"`` → ``"阳光花园"``; a road gives none."""
    prefix = prefix.strip(" ,，-、")
    if not prefix or prefix.endswith(_ROAD_ENDINGS) or prefix[-1].isdigit() or prefix[-1] == "号":
        return None
    cut = max(prefix.rfind(separator, 0, len(prefix) - 1) for separator in _PLACE_SEPARATORS)
    name = prefix[cut + 1 :] if cut >= 0 else prefix
    return name or None


def parse_address(text: str) -> AddressParts | None:
    """Split a combined address; None when it is neither of these.

    ``3-2-501``, ``3栋2单元501室``, ``3幢501室``, ``3号楼2单元501``, ``3-501``, with an optional
    estate name before (``阳光花园3栋…``), or a village house ``张庄12号`` (no room).
    """
    compact = _BRACKETED.sub("", text).replace(" ", "")
    match = _ADDRESS.search(compact)
    if match:
        entrance = match["entrance"]
        bmark = match["bmark"]
        return AddressParts(
            compound=compound_from_prefix(compact[: match.start()]),
            building=match["bnum"] if bmark == "-" else match["building"],
            building_number=building_number(match["bnum"]),
            entrance=small_number(entrance) if entrance else None,
            room=match["room"].upper(),
        )
    match = _HOUSE.search(compact)
    if match:
        prefix = compact[: match.start()]
        cut = max(prefix.rfind(separator) for separator in _VILLAGE_SEPARATORS)
        hamlet = prefix[cut + 1 :] if 0 <= cut < len(prefix) - 1 else prefix
        return AddressParts(None, f"{hamlet}{match['num']}号", None, None, "")
    return None


def parse_entrance_room(text: str) -> tuple[int | None, str] | None:
    """The part after a known building: ``"2单元501"``, ``"2-501"``, ``"501室"``."""
    match = _ENTRANCE_ROOM.fullmatch(_BRACKETED.sub("", text).replace(" ", ""))
    if not match:
        return None
    entrance = match["entrance"]
    return (small_number(entrance) if entrance else None), match["room"].upper()


def parse_building_cell(text: str) -> str | None:
    """A 楼栋 column: ``"3号楼"``, ``"3"``, ``"3.0"``, ``"三栋"``, ``"A座"`` → its number.

    None for a building known by name only (``张庄12号``).
    """
    match = _BUILDING_CELL.fullmatch(integral_text(text).replace(" ", ""))
    return building_number(match["bnum"]) if match else None


def parse_entrance_cell(text: str) -> int | None:
    match = _ENTRANCE_CELL.fullmatch(integral_text(text).replace(" ", ""))
    return small_number(match["entrance"]) if match else None


def parse_room_cell(text: str) -> str | None:
    match = _ROOM_CELL.fullmatch(integral_text(text).replace(" ", ""))
    return match["room"].upper() if match else None
