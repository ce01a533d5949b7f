"""Chinese resident ID numbers (GB 11643-1999) and phone numbers: validate, normalise, derive."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from operator import mul

from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ASCII_ZEROS = ord("0") * sum(WEIGHTS)  # what the weighted sum of the digits' character codes adds
# Imports check 100,000 numbers at a time: patterns compiled once, the sum done in C.
_SEPARATORS = re.compile(r"[\s\-]")
_LEGACY = re.compile(r"\d{15}")
_MODERN = re.compile(r"\d{17}[\dX]")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_PHONE_PREFIX = re.compile(r"^(\+86|0086)")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")


class InvalidIdNumber(ValueError):
    pass


class InvalidPhone(ValueError):
    pass


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("the check character is computed over 17 digits")
    if first17.isascii():  # the usual case: the bytes are the digits' codes, no int() per digit
        return CHECK_CHARS[(sum(map(mul, first17.encode(), WEIGHTS)) - _ASCII_ZEROS) % 11]
    return CHECK_CHARS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def _clean(raw: str) -> str:
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    return _SEPARATORS.sub("", text).upper()


def parse_id_number(raw: str, today: date | None = None) -> IdNumber:
    """Validate an 18-digit number (or convert a 15-digit legacy one) and derive birth date and sex.

    Error messages never contain the number itself.
    """
    value = _clean(str(raw))
    if _LEGACY.fullmatch(value):
        body = value[:6] + "19" + value[6:]
        value = body + check_char(body)
    if not _MODERN.fullmatch(value):
        raise InvalidIdNumber(_("must be 18 characters: 17 digits and a digit or X"))
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber(_("check digit does not match"))
    try:
        born, sex = birth_date_and_sex(value)
    except ValueError:
        raise InvalidIdNumber(_("birth date in the number is not a real date")) from None
    if born.year < 1890 or born > (today or date.today()):
        raise InvalidIdNumber(_("birth date in the number is out of range"))
    return IdNumber(number=value, birth_date=born, sex=sex)


def birth_date_and_sex(number: str) -> tuple[date, str]:
    """What a normalised 18-character number states: birth date, and sex ("M" or "F"). No validation.

    ``parse_id_number`` derives them here; so does sealing a number it has already
    accepted (``actions.seal_fields(trusted=True)``). ValueError when the date is not real.
    """
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14])), "M" if int(number[16]) % 2 else "F"


def normalise_phone(raw: str) -> str:
    """Strip spaces, dashes, brackets and a +86/0086 prefix; accept mainland mobiles and landlines."""
    value = str(raw)
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    value = _PHONE_PREFIX.sub("", _PHONE_NOISE.sub("", value))
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return value
    raise InvalidPhone(_("not a mainland mobile (11 digits starting 1) or landline with area code"))


# The first administrative level of China, as a domicile (户籍地) starts: provinces, autonomous
# regions, municipalities and special administrative regions, with the short forms people write.
_PROVINCE = re.compile(
    r"^(?:(?:北京|天津|上海|重庆)市?"
    r"|(?:内蒙古|广西壮族|广西|西藏|宁夏回族|宁夏|新疆维吾尔|新疆)(?:自治区)?"
    r"|(?:香港|澳门)(?:特别行政区)?"
    r"|(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南"
    r"|陕西|甘肃|青海|台湾)省?)"
)


def domicile_shown_masked(domicile: str) -> str:
    """A domicile as a masked view shows it: its province (``湖北省``) and nothing below it.

    The county in a domicile fixes the first six digits of an ID number (its region
    code); with the province alone, digits 3-6 stay unknown. Text without a
    recognisable province is hidden whole.
    """
    text = (domicile or "").strip()
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    match = _PROVINCE.match(text.replace(" ", ""))
    if match is None:
        return "***"
    province = match.group()
    return province + ("…" if len(province) < len(text.replace(" ", "")) else "")
