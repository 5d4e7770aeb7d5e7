"""The pure rules: national IDs per country, phones, search text. No database."""

from __future__ import annotations

import pytest

from core_banking.members.identity import (
    IdProblem,
    NationalIdInvalid,
    PhoneInvalid,
    national_id_normalise,
    phone_normalise,
    phone_search_forms,
    thai_check_digit,
)
from core_banking.members.normalise import fold_digits, search_normalise


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("1234567890", "1234567890"),  # smart card, 10 digits
        ("1234567890123", "1234567890123"),  # laminated card, 13 digits
        ("19901234567890123", "19901234567890123"),  # 17 digits, birth year first
        ("১২৩৪৫৬৭৮৯০", "1234567890"),  # typed in Bangla digits
        ("123 456 7890", "1234567890"),
        ("123-456-7890", "1234567890"),
    ],
)
def test_bangladesh_nid_is_10_13_or_17_digits(raw: str, stored: str) -> None:
    assert national_id_normalise(raw, "BD") == stored


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("123456789", IdProblem.WRONG_LENGTH),
        ("12345678901", IdProblem.WRONG_LENGTH),
        ("123456789012345678", IdProblem.WRONG_LENGTH),
        ("12345X7890", IdProblem.NOT_DIGITS),
    ],
)
def test_bangladesh_nid_of_another_shape_is_refused(raw: str, problem: IdProblem) -> None:
    with pytest.raises(NationalIdInvalid) as raised:
        national_id_normalise(raw, "BD")
    assert raised.value.problem == problem
    assert raised.value.expected == "10, 13 or 17 digits"


def test_vietnam_cccd_has_12_digits_and_the_old_cmnd_9() -> None:
    assert national_id_normalise("001 203 004 567", "VN") == "001203004567"
    assert national_id_normalise("012345678", "VN") == "012345678"
    for wrong in ("0012030045", "00120300456789", "12345678"):
        with pytest.raises(NationalIdInvalid):
            national_id_normalise(wrong, "VN")


def test_thai_id_needs_its_check_digit() -> None:
    # Σ dᵢ·(13-i) for 123456789012 is 352 = 32·11, so the check digit is (11 - 0) mod 10 = 1.
    assert thai_check_digit("123456789012") == 1
    assert national_id_normalise("1-2345-67890-12-1", "TH") == "1234567890121"
    assert national_id_normalise("๑๑๐๑๗๐๐๒๐๗๐๓๐", "TH") == "1101700207030"  # Thai digits
    with pytest.raises(NationalIdInvalid) as raised:
        national_id_normalise("1234567890122", "TH")
    assert raised.value.problem == IdProblem.CHECK_DIGIT
    with pytest.raises(NationalIdInvalid) as raised:
        national_id_normalise("123456789012", "TH")
    assert raised.value.problem == IdProblem.WRONG_LENGTH


def test_other_countries_take_5_to_30_letters_and_digits() -> None:
    assert national_id_normalise("ab12-345", "KE") == "AB12345"
    for wrong in ("AB12", "A" * 31, "AB12$45", "ÄB12345"):
        with pytest.raises(NationalIdInvalid):
            national_id_normalise(wrong, "KE")


def test_an_empty_id_stays_empty() -> None:
    assert national_id_normalise("  ", "BD") == ""


def test_phone_numbers_are_kept_in_e164_with_the_cooperatives_country_as_default() -> None:
    assert phone_normalise("01711-000000", "BD") == "+8801711000000"
    assert phone_normalise("০১৭১১০০০০০০", "BD") == "+8801711000000"
    assert phone_normalise("0912 345 678", "VN") == "+84912345678"
    assert phone_normalise("๐๘๑๒๓๔๕๖๗๘", "TH") == "+66812345678"
    assert phone_normalise("+84 912 345 678", "BD") == "+84912345678"
    for wrong in ("12345", "01711", "not a phone"):
        with pytest.raises(PhoneInvalid):
            phone_normalise(wrong, "BD")


def test_a_phone_is_searchable_in_international_and_national_digits() -> None:
    assert phone_search_forms("+84912345678") == ("84912345678", "0912345678")
    # The Bangladeshi national form is already inside the international one.
    assert phone_search_forms("+8801711000000") == ("8801711000000",)


def test_search_text_drops_latin_diacritics_only() -> None:
    assert search_normalise("Nguyễn Văn An") == "nguyen van an"
    assert search_normalise("ĐỖ THỊ ĐÀO") == "do thi dao"
    # Bangla and Thai vowel signs are combining marks too, and stay: they are part of the word.
    assert search_normalise("রহিমা বেগম") == "রহিমা বেগম"
    assert search_normalise("สมชาย ใจดี") == "สมชาย ใจดี"
    assert search_normalise("রহিমা") != search_normalise("রহম")
    assert search_normalise("Md. Abdur  Rahim") == "md abdur rahim"


def test_digits_fold_to_latin() -> None:
    assert fold_digits("০১৭১১ ๑๒๓ 42") == "01711 123 42"
    assert search_normalise("MIR-০০০১২৩") == "mir-000123"
