"""What an SMS costs: its encoding and number of segments, and unaccented Vietnamese.

Plain Python, no Django: the editor, the relay and the tests all measure a text the same way.

- GSM-7 (3GPP TS 23.038) when every character is in the basic set or its extension table; a
  character of the extension table (``^{}\\[~]|€`` and form feed) is sent as an escape and the
  character, so it counts twice. Any other character makes the whole message UCS-2.
- One segment holds 160 GSM-7 septets or 70 UCS-2 code units. A longer message is split into
  concatenated parts, each losing room to its header: 153 septets or 67 code units. UCS-2 counts
  UTF-16 code units, so a character outside the Basic Multilingual Plane (an emoji) takes two.
  A part never ends in the middle of an escape pair or a surrogate pair, as handsets and gateways
  split them; such a part holds one unit less, which the count follows exactly.
- An empty text is no message: 0 segments.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

# The GSM 03.38 basic character set, without the escape character itself.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape: two septets each.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM_7 = 160
PART_GSM_7 = 153
SINGLE_UCS_2 = 70
PART_UCS_2 = 67

# Spaces a formatter puts between an amount and its currency sign (Babel uses no-break spaces).
# In an SMS they would cost the whole message its GSM-7 encoding for no visible difference.
_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " "})


@dataclass(frozen=True)
class SmsMeasure:
    encoding: str  # GSM_7 or UCS_2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm_7(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)


def sms_encoding(text: str) -> str:
    return GSM_7 if is_gsm_7(text) else UCS_2


def _unit_sizes(text: str, encoding: str) -> list[int]:
    if encoding == GSM_7:
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts(sizes: list[int], room: int) -> int:
    """How many parts of ``room`` units the characters fill, none split across two parts."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > room:
            parts, used = parts + 1, 0
        used += size
    return parts


def sms_measure(text: str) -> SmsMeasure:
    encoding = sms_encoding(text)
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    single, part = (SINGLE_GSM_7, PART_GSM_7) if encoding == GSM_7 else (SINGLE_UCS_2, PART_UCS_2)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _parts(sizes, part)
    return SmsMeasure(encoding=encoding, units=units, segments=segments)


def plain_spaces(text: str) -> str:
    """``text`` with typographic spaces made ordinary ones (see ``_PLAIN_SPACES``)."""
    return text.translate(_PLAIN_SPACES)


# Vietnamese letters whose stroke is not a combining mark, and the dong sign, which GSM-7 lacks.
_VIETNAMESE_PLAIN = str.maketrans({"đ": "d", "Đ": "D", "₫": "VND"})


def unaccent_vietnamese(text: str) -> str:
    """Vietnamese without its tone marks and diacritics ("Số dư" → "So du"), as many members read
    SMS on phones that show only GSM-7; the rest of the text is left as it is."""
    decomposed = unicodedata.normalize("NFD", text.translate(_VIETNAMESE_PLAIN))
    # Only the combining marks are dropped (U+0300–U+036F); a letter with none is untouched.
    stripped = "".join(char for char in decomposed if not ("\u0300" <= char <= "\u036f"))
    return unicodedata.normalize("NFC", stripped)
