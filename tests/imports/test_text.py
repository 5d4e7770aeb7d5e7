"""Bytes from old exports decoded to the text that was typed, whatever wrote them."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from imports.engine.text import (
    EncodingUnknown,
    ascii_digits,
    clean_cell,
    decode_bytes,
    detect_encoding,
    header_key,
)

VIETNAMESE = (
    "Số thành viên,Họ và tên,Số dư\nTV-0001,Nguyễn Thị Hồng Nhung,2.500.000\nTV-0002,Trần Văn Đức,1.000.000\n"
)
THAI = 'เลขทะเบียนสมาชิก,ชื่อ-นามสกุล,ยอดคงเหลือ\nS-0001,สมชาย ใจดี,"25,300.75"\nS-0002,สมหญิง รักไทย,120.00\n'
BANGLA = "সদস্য নং,পূর্ণ নাম\nM-0001,রহিমা খাতুন\nM-0002,মোঃ করিম উদ্দিন\n"
ENGLISH_1252 = "Member no.,Full name,Address\nM-1,José Müller,Zürich – “Altstadt”\n"


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter (with ^ ˘ ˙ when the page has
    it precomposed), then the tone mark as a combining character."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", parts[:2])
        try:
            out += base.encode("cp1258") + parts[2:].encode("cp1258")
        except UnicodeEncodeError:
            out += parts.encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize("text", [VIETNAMESE, THAI, BANGLA])
@pytest.mark.parametrize(
    ("encode", "codec", "bom"),
    [
        (lambda text: text.encode("utf-8"), "utf-8", False),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8", True),
        (lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "utf-16-le", True),
        (lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "utf-16-be", True),
        (lambda text: text.encode("utf-16-le"), "utf-16-le", False),
        (lambda text: text.encode("utf-16-be"), "utf-16-be", False),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"],
)
def test_unicode_encodings_with_and_without_bom(text, encode, codec, bom):  # type: ignore[no-untyped-def]
    decoded = decode_bytes(encode(text))
    assert decoded.text == text
    assert decoded.encoding == codec
    assert decoded.had_bom is bom


def test_thai_windows_874_detected_without_a_hint():
    decoded = decode_bytes(THAI.encode("cp874"))
    assert decoded.encoding == "cp874"
    assert decoded.text == THAI


def test_vietnamese_windows_1258_with_combining_tones_comes_out_nfc():
    data = to_cp1258(VIETNAMESE)
    assert b"\xcc" in data or b"\xec" in data  # the tone marks really are separate bytes
    for locale in (None, "vi"):
        decoded = decode_bytes(data, locale=locale)
        assert decoded.encoding == "cp1258"
        assert decoded.text == VIETNAMESE
        assert unicodedata.is_normalized("NFC", decoded.text)


def test_western_windows_1252_is_named_1252():
    decoded = decode_bytes(ENGLISH_1252.encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == ENGLISH_1252


def test_bijoy_text_survives_as_windows_1252():
    bijoy = "Member,Name\n1,‡gvt Kwig DwÏb\n2,Avgvi †mvbvi evsjv\n"
    decoded = decode_bytes(bijoy.encode("cp1252"), locale="bn")
    assert decoded.encoding == "cp1252"
    assert decoded.text == bijoy


def test_explicit_encoding_wins_and_a_wrong_one_is_refused():
    data = THAI.encode("cp874")
    assert decode_bytes(data, encoding="cp874").text == THAI
    with pytest.raises(EncodingUnknown):
        decode_bytes(data, encoding="utf-8")
    with pytest.raises(EncodingUnknown):
        decode_bytes(b"abc", encoding="no-such-codec")


def test_utf8_bom_with_explicit_encoding_is_dropped():
    decoded = decode_bytes(codecs.BOM_UTF8 + b"a,b\n", encoding="utf-8")
    assert decoded.text == "a,b\n"
    assert decoded.had_bom


def test_a_plain_ascii_file_is_utf8():
    assert detect_encoding(b"member_no,full_name\nM-1,Karim\n") == ("utf-8", False)


def test_digits_of_every_script_become_ascii():
    assert ascii_digits("০১২৩৪৫৬৭৮৯") == "0123456789"
    assert ascii_digits("๐๑๒๓๔๕๖๗๘๙") == "0123456789"
    assert ascii_digits("٣٤ ۵ １２") == "34 5 12"
    assert ascii_digits("M-০০০১") == "M-0001"


def test_cells_are_cleaned_and_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    assert clean_cell(f"  {decomposed}\u00a0\u200bThị  ") == "Nguyễn Thị"
    assert clean_cell("a\t\tb ") == "a b"
    # ZWNJ chooses a visible hasanta in Bangla: kept.
    assert clean_cell("ক্\u200cষ") == "ক্\u200cষ"


def test_header_keys_ignore_case_spacing_and_marks():
    assert header_key("  Member  No.* ") == header_key("member no") == "member no"
    assert header_key("সদস্য নং") == "সদস্য নং"
    assert header_key("ชื่อ-นามสกุล") == "ชื่อ นามสกุล"
    assert header_key(unicodedata.normalize("NFD", "Họ và tên")) == header_key("HỌ VÀ TÊN")
