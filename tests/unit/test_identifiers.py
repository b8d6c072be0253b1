from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation.identifiers import (
    credit_code_check_char,
    mask_name,
    mask_resident_id,
    resident_id_check_char,
    validate_credit_code,
    validate_resident_id,
)

VALID_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91350100M000100Y43"


def _make_id(body: str) -> str:
    return body + resident_id_check_char(body)


# ---------------------------------------------------------------- resident ID


def test_known_valid_resident_id() -> None:
    assert resident_id_check_char(VALID_ID[:17]) == "X"
    assert validate_resident_id(VALID_ID) == VALID_ID


def test_lowercase_x_is_normalised() -> None:
    assert validate_resident_id(VALID_ID.lower()) == VALID_ID


def test_check_digit_computation() -> None:
    # hand-computed: weighted sum 188, 188 % 11 = 1 -> "10X98765432"[1] == "0"
    assert resident_id_check_char("42010219900307001") == "0"
    # VALID_ID: weighted sum 167, 167 % 11 = 2 -> "X"
    assert resident_id_check_char("11010519491231002") == "X"
    ids = {_make_id(f"4201021990030700{i}") for i in range(10)}
    assert len(ids) == 10
    for value in ids:
        assert validate_resident_id(value) == value


@pytest.mark.parametrize("wrong", [c for c in "0123456789X" if c != "X"])
def test_wrong_check_char_refused(wrong: str) -> None:
    with pytest.raises(ValueError, match="校验位应为"):
        validate_resident_id(VALID_ID[:17] + wrong)


def test_single_digit_typo_refused() -> None:
    typo = VALID_ID[:3] + "2" + VALID_ID[4:]  # 110105 -> 110205
    with pytest.raises(ValueError, match="校验位应为"):
        validate_resident_id(typo)


@pytest.mark.parametrize(
    ("birth", "message"),
    [
        ("19490230", "不是有效日期"),  # 30 February
        ("19491301", "不是有效日期"),  # month 13
        ("19490000", "不是有效日期"),
        ("20230229", "不是有效日期"),  # 2023 is not a leap year
        ("18991231", "早于 1900 年"),
        ("09991231", "早于 1900 年"),
    ],
)
def test_impossible_birth_date_refused(birth: str, message: str) -> None:
    value = _make_id("110105" + birth + "002")
    with pytest.raises(ValueError, match=message):
        validate_resident_id(value)


def test_leap_day_and_earliest_date_accepted() -> None:
    for birth in ("20000229", "19000101"):
        value = _make_id("110105" + birth + "002")
        assert validate_resident_id(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "应为 18 位"),
        ("11010519491231002", "应为 18 位"),
        ("1101051949123100A", "应为 18 位"),
        ("11010519491231002A", "最后一位应为数字或 X"),
        ("1101051949123100X2", "前 17 位应为数字"),
    ],
)
def test_malformed_resident_id_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_resident_id(value)


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310022", "1101051949123100X"])
def test_resident_id_check_char_rejects_bad_body(bad: str) -> None:
    with pytest.raises(ValueError, match="公民身份号码"):
        resident_id_check_char(bad)


@given(
    area=st.builds(
        str.__add__,
        st.sampled_from(["11", "42", "65", "81", "83"]),  # the area code's province is checked
        st.text(alphabet="0123456789", min_size=4, max_size=4),
    ),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    seq=st.text(alphabet="0123456789", min_size=3, max_size=3),
    replacement=st.sampled_from("0123456789X"),
)
def test_property_check_char_round_trip(area: str, birth: date, seq: str, replacement: str) -> None:
    body = area + birth.strftime("%Y%m%d") + seq
    assert len(body) == 17
    value = body + resident_id_check_char(body)
    assert validate_resident_id(value) == value
    if replacement != value[-1]:
        with pytest.raises(ValueError, match="校验位应为"):
            validate_resident_id(body + replacement)


# ---------------------------------------------------------------- credit code


def test_known_valid_credit_code() -> None:
    assert credit_code_check_char(VALID_CREDIT_CODE[:17]) == "3"
    assert validate_credit_code(VALID_CREDIT_CODE) == VALID_CREDIT_CODE


def test_credit_code_lowercase_normalised() -> None:
    assert validate_credit_code(VALID_CREDIT_CODE.lower()) == VALID_CREDIT_CODE
    assert credit_code_check_char(VALID_CREDIT_CODE[:17].lower()) == "3"


def test_credit_code_check_zero_case() -> None:
    # find a body whose sum is a multiple of 31: check = 31 - 0 -> 31 -> "0"
    body_prefix = "91420100MA4K"
    for tail in range(100000):
        body = f"{body_prefix}{tail:05d}"
        if credit_code_check_char(body) == "0":
            assert validate_credit_code(body + "0") == body + "0"
            break
    else:  # pragma: no cover - 1 in 31 bodies qualifies
        pytest.fail("no body with check character 0 found")


@pytest.mark.parametrize("wrong", [c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != "3"])
def test_wrong_credit_check_char_refused(wrong: str) -> None:
    with pytest.raises(ValueError, match="校验位应为"):
        validate_credit_code(VALID_CREDIT_CODE[:17] + wrong)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters_refused(letter: str) -> None:
    body = VALID_CREDIT_CODE[:8] + letter + VALID_CREDIT_CODE[9:17]
    with pytest.raises(ValueError, match=f"第 9 位“{letter}”不是允许的字符"):
        validate_credit_code(body + "0")
    with pytest.raises(ValueError, match="第 18 位“I”不是允许的字符"):
        validate_credit_code(VALID_CREDIT_CODE[:17] + "I")


@pytest.mark.parametrize("value", ["", VALID_CREDIT_CODE[:17], VALID_CREDIT_CODE + "3"])
def test_credit_code_wrong_length_refused(value: str) -> None:
    with pytest.raises(ValueError, match="应为 18 位"):
        validate_credit_code(value)


def test_credit_code_non_ascii_refused() -> None:
    with pytest.raises(ValueError, match="不是允许的字符"):
        validate_credit_code("ß" + VALID_CREDIT_CODE[1:])


# ---------------------------------------------------------------- masking


def test_mask_resident_id() -> None:
    assert mask_resident_id(VALID_ID) == "*" * 14 + "002X"
    assert mask_resident_id("1234") == "1234"
    assert mask_resident_id("123") == "123"
    assert mask_resident_id("") == ""


def test_mask_name() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("王") == "王"
    assert mask_name("") == ""


@pytest.mark.parametrize("area", ["000000", "990000", "001234", "200101", "900000"])
def test_area_code_outside_every_province_refused(area: str) -> None:
    with pytest.raises(ValueError, match="地区码"):
        validate_resident_id(_make_id(area + "19900101" + "002"))


@pytest.mark.parametrize("area", ["420102", "421099", "110105", "810000", "830000"])
def test_area_code_in_a_province_accepted(area: str) -> None:
    """Old and abolished county codes stay valid: only the province is checked."""
    value = _make_id(area + "19900101" + "002")
    assert validate_resident_id(value) == value
