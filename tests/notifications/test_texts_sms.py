"""The SMS measure (notifications/sms_text.py): encoding, units and segments at every boundary."""

from __future__ import annotations

import pytest

from notifications.sms_text import (
    GSM_7,
    UCS_2,
    is_gsm_7,
    plain_spaces,
    sms_encoding,
    sms_measure,
    unaccent_vietnamese,
)

BANGLA = "অ"  # one UTF-16 code unit
EMOJI = "\N{GRINNING FACE}"  # outside the BMP: two code units (a surrogate pair)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM_7, 0, 0),
        ("a", GSM_7, 1, 1),
        ("a" * 160, GSM_7, 160, 1),
        ("a" * 161, GSM_7, 161, 2),
        ("a" * 306, GSM_7, 306, 2),
        ("a" * 307, GSM_7, 307, 3),
        ("a" * 459, GSM_7, 459, 3),
        ("a" * 460, GSM_7, 460, 4),
        # The extension table costs two septets each.
        ("€" * 80, GSM_7, 160, 1),
        ("a" * 159 + "€", GSM_7, 161, 2),
        ("a" * 158 + "[]", GSM_7, 162, 2),
        # An escape pair is never split: 152 septets fill the first part, the pair starts the second.
        ("a" * 152 + "€" + "a" * 151, GSM_7, 305, 2),
        ("a" * 152 + "€" + "a" * 152, GSM_7, 306, 3),
        ("€" * 81, GSM_7, 162, 2),
        ("\n" * 160, GSM_7, 160, 1),
        # One character outside GSM-7 makes the whole message UCS-2.
        ("a" * 69 + BANGLA, UCS_2, 70, 1),
        ("a" * 70 + BANGLA, UCS_2, 71, 2),
        (BANGLA * 70, UCS_2, 70, 1),
        (BANGLA * 71, UCS_2, 71, 2),
        (BANGLA * 134, UCS_2, 134, 2),
        (BANGLA * 135, UCS_2, 135, 3),
        (BANGLA * 201, UCS_2, 201, 3),
        (BANGLA * 202, UCS_2, 202, 4),
        # UTF-16 code units: a character outside the BMP takes two, and a pair is never split.
        (EMOJI * 35, UCS_2, 70, 1),
        (EMOJI * 36, UCS_2, 72, 2),
        (BANGLA * 65 + EMOJI + BANGLA * 65, UCS_2, 132, 2),
        (BANGLA * 66 + EMOJI + BANGLA * 65, UCS_2, 133, 2),
        (BANGLA * 66 + EMOJI + BANGLA * 66, UCS_2, 134, 3),  # 66 | 2 + 66 > 67 | ...
        (BANGLA * 67 + EMOJI + BANGLA * 65, UCS_2, 134, 2),
        # In UCS-2 the GSM extension characters are one unit like any other.
        (BANGLA + "€" * 69, UCS_2, 70, 1),
    ],
)
def test_measure(text: str, encoding: str, units: int, segments: int) -> None:
    measure = sms_measure(text)
    assert (measure.encoding, measure.units, measure.segments) == (encoding, units, segments)


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà", True),
        ("^{}\\[~]|€", True),
        ("\r\n\f", True),
        ("ç", False),  # only the capital Ç is in the basic set
        ("á", False),
        ("`", False),
        ("\u00a0", False),  # a no-break space is not a GSM-7 space
        ("\x1b", False),  # the escape itself is not a character of a message
        ("₫", False),
        ("৳", False),
        ("฿", False),
    ],
)
def test_gsm_7_characters(text: str, gsm: bool) -> None:
    assert is_gsm_7(text) is gsm
    assert sms_encoding(text) == (GSM_7 if gsm else UCS_2)


def test_no_break_spaces_become_plain_spaces() -> None:
    assert plain_spaces("2.000.000\u00a0₫ 1\u202f500") == "2.000.000 ₫ 1 500"
    assert sms_measure(plain_spaces("Balance:\u00a0VND\u00a0100")).encoding == GSM_7


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Số dư 15.000.000 ₫", "So du 15.000.000 VND"),
        ("Nguyễn Thị Hương", "Nguyen Thi Huong"),
        ("Đã thu nợ khoản vay", "Da thu no khoan vay"),
        ("ĐƯỜNG Ơ Ư ă â ê ô", "DUONG O U a a e o"),
        ("Kỳ đầu: ỹ ỵ ỷ", "Ky dau: y y y"),
        ("plain ASCII 123", "plain ASCII 123"),
    ],
)
def test_unaccented_vietnamese(text: str, plain: str) -> None:
    assert unaccent_vietnamese(text) == plain
    assert is_gsm_7(unaccent_vietnamese(text))
