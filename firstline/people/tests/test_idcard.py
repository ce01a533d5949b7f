from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstline.conftest import make_id_number
from firstline.people.idcard import InvalidIdNumber, InvalidPhone, check_char, normalise_phone, parse_id_number


def test_it_accepts_a_valid_number_and_derives_birth_date_and_sex():
    parsed = parse_id_number(make_id_number(born=date(1990, 3, 7), serial=123))
    assert parsed.birth_date == date(1990, 3, 7)
    assert parsed.sex == "M"
    assert parse_id_number(make_id_number(serial=124)).sex == "F"


def test_it_knows_the_published_example():
    # The GB 11643-1999 example number.
    assert parse_id_number("11010519491231002X").birth_date == date(1949, 12, 31)


def test_it_rejects_a_wrong_check_digit_without_echoing_the_number():
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(wrong)
    assert wrong not in str(error.value)


def test_it_converts_a_15_digit_legacy_number():
    parsed = parse_id_number("110105491231002")
    assert parsed.number == "11010519491231002X"


def test_it_normalises_lowercase_x_full_width_digits_and_spaces():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"
    assert parse_id_number("１１０１０５ １９４９１２３１ ００２Ｘ").number == "11010519491231002X"


def test_it_rejects_impossible_birth_dates():
    body = "11010519900230123"  # 30 February
    with pytest.raises(InvalidIdNumber):
        parse_id_number(body + check_char(body))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)), st.integers(0, 999))
def test_it_round_trips_any_generated_number(born, serial):
    parsed = parse_id_number(make_id_number(born=born, serial=serial))
    assert parsed.birth_date == born
    assert parsed.sex == ("M" if serial % 2 else "F")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("010-62345678", "01062345678"),
        ("（0571）87654321", "057187654321"),
    ],
)
def test_it_normalises_phone_numbers(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "23812345678", "138123456789", "abc"])
def test_it_rejects_bad_phone_numbers(raw):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)
