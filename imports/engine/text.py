"""Bytes to text, and text as the engine compares it. Plain Python: no Django.

Old exports come in whatever the office computer wrote: UTF-8 (with or without a BOM), UTF-16
from Excel's "Unicode text" (with or without a BOM), or a Windows code page — 1252 for English and
for Bangla typed in Bijoy (the SutonnyMJ font draws Latin-1 bytes as Bangla), 874 for Thai, 1258
for Vietnamese. ``decode_bytes`` finds which; a caller that knows (a saved mapping profile) passes
the encoding and nothing is guessed.

Everything read is NFC: Windows-1258 and some Vietnamese keyboards write a base letter and a
combining tone mark ("a" + U+0301), which would otherwise not equal the precomposed "á" typed
elsewhere.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer


class EncodingUnknown(ValueError):
    """The bytes are not text in the given encoding, or in any encoding the engine knows."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name: "utf-8", "utf-16-le", "cp874", ...
    had_bom: bool


# The code page a Windows computer in each language writes "ANSI" text in. Bangla files are 1252
# because Bijoy text is Latin-1 bytes drawn by a Bangla font.
LOCALE_CODE_PAGES: dict[str, str] = {"en": "cp1252", "bn": "cp1252", "th": "cp874", "vi": "cp1258"}
LEGACY_CODE_PAGES: tuple[str, ...] = ("cp1252", "cp874", "cp1258", "cp1250", "cp1251", "cp1254")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF16_SNIFF_BYTES = 4096


def _sniff_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 LE/BE from where the NUL bytes fall: the high byte of every ASCII character is NUL.

    A spreadsheet export is mostly ASCII (digits, separators, Latin headers) even when its names
    are Thai or Bangla, so at least a fifth of the characters of one parity are NUL and almost none
    of the other; text in any 8-bit encoding or UTF-8 has no NUL bytes at all.
    """
    sample = data[:_UTF16_SNIFF_BYTES]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    sample = sample[: len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls >= pairs * 0.2 and even_nuls <= pairs * 0.02:
        return "utf-16-le"
    if even_nuls >= pairs * 0.2 and odd_nuls <= pairs * 0.02:
        return "utf-16-be"
    return None


def _decode_strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _legacy_code_page(data: bytes, locale: str | None) -> str:
    """The Windows code page of text that is not UTF-8: the locale's own when it decodes cleanly.

    A short Vietnamese file in 1258 also decodes in 1252 (as mojibake), so a language known from the
    file's template or profile decides first; charset-normalizer, restricted to the code pages these
    cooperatives' computers use, decides when no language is known or the locale's page fails.
    """
    preferred = LOCALE_CODE_PAGES.get((locale or "").split("-")[0].lower())
    if preferred and _decode_strict(data, preferred) is not None:
        return preferred
    best = charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_CODE_PAGES)).best()
    if best is not None:
        chosen = str(codecs.lookup(best.encoding).name)
        text = _decode_strict(data, chosen)
        # Where two code pages give the same text (plain accented Latin), name the commoner one.
        for candidate in LEGACY_CODE_PAGES:
            if candidate == chosen:
                break
            if _decode_strict(data, candidate) == text:
                return candidate
        return chosen
    if preferred:
        raise EncodingUnknown(f"The file is not text in {preferred} or any other known encoding.")
    raise EncodingUnknown("The file is not text in any known encoding.")


def detect_encoding(data: bytes, *, locale: str | None = None) -> tuple[str, bool]:
    """(codec name, starts with a BOM) for ``data``; ``locale`` (en, bn, th, vi) breaks ties."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, True
    utf16 = _sniff_utf16_without_bom(data)
    if utf16 is not None:
        return utf16, False
    if _decode_strict(data, "utf-8") is not None:
        return "utf-8", False
    return _legacy_code_page(data, locale), False


def decode_bytes(data: bytes, *, encoding: str | None = None, locale: str | None = None) -> Decoded:
    """The text of a file, NFC, without its BOM. An explicit ``encoding`` is used as it is."""
    had_bom = False
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as error:
            raise EncodingUnknown(f"Unknown encoding {encoding!r}.") from error
        for bom, bom_codec in _BOMS:
            if data.startswith(bom) and codecs.lookup(bom_codec).name == codec:
                data, had_bom = data[len(bom) :], True
                break
    else:
        codec, had_bom = detect_encoding(data, locale=locale)
        if had_bom:
            data = data[len(next(bom for bom, name in _BOMS if name == codec)) :]
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1]
        raise EncodingUnknown(f"The file is not valid {codec} text (byte {error.start}: {bad!r}).") from error
    return Decoded(text=nfc(text.lstrip("\ufeff")), encoding=str(codec), had_bom=had_bom)


def nfc(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def _digit_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code_point in range(0x80, 0x20000):
        char = chr(code_point)
        if unicodedata.category(char) == "Nd":
            table[code_point] = str(unicodedata.decimal(char))
    return table


_DIGITS_TO_ASCII = _digit_table()


def ascii_digits(text: str) -> str:
    """Every decimal digit (Bangla ০-৯, Thai ๐-๙, Arabic-Indic, full-width ...) as 0-9."""
    if text.isascii():
        return text
    return text.translate(_DIGITS_TO_ASCII)


# Spaces a spreadsheet or a keyboard may put in a cell: no-break, thin, ideographic, and the
# zero-width marks that are invisible in a cell but break equality.
_SPACE_LIKE = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff]")
_RUNS_OF_SPACE = re.compile(r"\s+")


def clean_cell(value: str) -> str:
    """A cell's text as the engine parses it: NFC, no invisible marks, spaces collapsed, trimmed.

    ZWJ/ZWNJ (U+200C/D) are kept: in Bangla they choose between a conjunct and a visible hasanta.
    """
    if value.isascii():
        return _RUNS_OF_SPACE.sub(" ", value).strip() if "  " in value or "\t" in value else value.strip()
    value = _INVISIBLE.sub("", _SPACE_LIKE.sub(" ", value))
    return _RUNS_OF_SPACE.sub(" ", nfc(value)).strip()


def header_key(header: str) -> str:
    """A column header as headers are compared: case, spacing, punctuation and marks of emphasis
    (``*`` for required, ``:``) do not matter; letters, digits and Bangla/Thai signs do."""
    folded = clean_cell(header).casefold()
    kept = [
        char if (char.isalnum() or unicodedata.category(char).startswith("M")) else " " for char in folded
    ]
    return " ".join("".join(kept).split())
