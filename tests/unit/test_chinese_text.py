"""Issue 12: what users read is Chinese, from the glossary; the formats clerks type.

Every rule's legal source and every refusal title is Chinese (no developer note such as
"Business dates record what has happened" reaches a page); every validation message of
the glossary is Chinese and names no field path.
"""

from __future__ import annotations

import re

import pytest

from api.pages.forms import plain_amount
from mediation import errors, labels
from mediation.identifiers import validate_phone
from mediation.values import money


def _all_errors() -> list[type[errors.DomainError]]:
    found, todo = [], [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_errors(), ids=lambda c: c.__name__)
def test_every_refusal_reads_in_chinese(cls: type[errors.DomainError]) -> None:
    assert labels.english_words(cls.title_zh) == [], cls.title_zh
    assert labels.english_words(cls.source) == [], cls.source


@pytest.mark.parametrize("key", sorted(labels.MESSAGE))
def test_every_message_is_chinese_and_names_no_field(key: str) -> None:
    text = labels.MESSAGE[key]
    assert labels.english_words(re.sub(r"\{[a-z_]+\}", "", text)) == [], text
    assert "claims." not in text and "applicant." not in text


def test_field_labels_for_the_list_of_problems() -> None:
    assert labels.field_label("claims.0.amount") == "第1项请求金额"
    assert labels.field_label("claims.2.category") == "第3项请求类别"
    assert labels.field_label("applicant.phone") == "联系电话"
    assert labels.field_label("something.unknown") == "此项"
    assert labels.field_label("applicants.2.name") == "第3名申请人姓名"  # issue 17
    assert labels.field_label("respondents.0.credit_code") == "第1名被申请人统一社会信用代码"


def test_an_untranslated_detail_is_held_back() -> None:
    assert labels.chinese_or_empty("the case contains a claim; sever it first") == ""
    assert labels.chinese_or_empty("尚未记录被申请人同意调解") == "尚未记录被申请人同意调解"
    assert labels.chinese_or_empty("文件须为 UTF-8 编码的 TOML 文本") != ""  # codes allowed


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13912345678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("027-8888888", "027-8888888"),
        ("010-88888888", "010-88888888"),
        ("01088888888", "010-88888888"),
        ("0710-3333333", "0710-3333333"),
        ("07103333333", "0710-3333333"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_phones_accepted_and_normalised(typed: str, stored: str) -> None:
    assert validate_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["1380013800", "12912345678", "88888888", "027-888", "0-8888888", "+86 1234", "", "abc"],
)
def test_phones_refused_in_chinese(typed: str) -> None:
    with pytest.raises(ValueError, match="手机号码"):
        validate_phone(typed)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("8,500", "8500.00"),
        ("8，500.5", "8500.50"),
        ("1,234,567.89", "1234567.89"),
        ("12800元", "12800.00"),
        (" 12800.00 ", "12800.00"),
    ],
)
def test_amounts_with_thousands_separators(typed: str, amount: str) -> None:
    assert str(money(plain_amount(typed))) == amount


@pytest.mark.parametrize("typed", ["8,50", "85,00", "1,2345", ",500"])
def test_misplaced_separators_are_not_guessed(typed: str) -> None:
    with pytest.raises(ValueError, match="金额"):
        money(plain_amount(typed))
