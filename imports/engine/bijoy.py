"""Bangla typed in Bijoy (SutonnyMJ and the other "MJ" fonts) to Unicode. Plain Python: no Django.

Before Unicode Bangla was common, offices typed with the Bijoy keyboard into fonts that draw
Latin-1/Windows-1252 characters as Bangla glyphs: "Avgvi †mvbvi evsjv" is what a spreadsheet
holds for "আমার সোনার বাংলা" once the font is gone. Such text is stored in *visual* order:

- the vowel signs drawn left of a consonant (ি ে ৈ, and the left half of ো ৌ) come before it,
  while Unicode puts every vowel sign after the consonant cluster it belongs to;
- the reph (র্ drawn above) comes after the cluster it sits on, while Unicode puts র্ before it;
- conjuncts are single glyphs (``³`` = ক্ত) or a half form plus a following form
  (``¯‹`` = স্ক), which join once both are turned into consonant + hasanta + consonant.

The converter maps each character through one table, then moves reph and the pre-base vowel
signs to their Unicode places, and finally merges ে…া into ো and ে…ৗ into ৌ.

PyPI's Bijoy converters were looked at first: bijoy2unicode (MIT, 2018) misplaces reph
(পর্দা comes out as পদার্), and bijoytounicode (MPL-2.0, a 2018 beta) is neither permissive
nor maintained; neither has tests beyond one sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

HASANTA = "\u09cd"
NUKTA = "\u09bc"
CHANDRABINDU = "ঁ"

# Markers for what moves, from the private-use area so no real text can contain them.
_REPH = "\ue000"
_PRE_I = "\ue001"  # ি
_PRE_E = "\ue002"  # ে (also the left half of ো and ৌ)
_PRE_OI = "\ue003"  # ৈ
_PRE_KAR_SIGN = {_PRE_I: "ি", _PRE_E: "ে", _PRE_OI: "ৈ"}

# One character of SutonnyMJ → its Unicode text, in the order the table of the font lists them.
_TABLE: dict[str, str] = {
    # Independent vowels (আ is অ + া, merged at the end)
    "A": "অ",
    "B": "ই",
    "C": "ঈ",
    "D": "উ",
    "E": "ঊ",
    "F": "ঋ",
    "G": "এ",
    "H": "ঐ",
    "I": "ও",
    "J": "ঔ",
    # Consonants
    "K": "ক",
    "L": "খ",
    "M": "গ",
    "N": "ঘ",
    "O": "ঙ",
    "P": "চ",
    "Q": "ছ",
    "R": "জ",
    "S": "ঝ",
    "T": "ঞ",
    "U": "ট",
    "V": "ঠ",
    "W": "ড",
    "X": "ঢ",
    "Y": "ণ",
    "Z": "ত",
    "_": "থ",
    "`": "দ",
    "a": "ধ",
    "b": "ন",
    "c": "প",
    "d": "ফ",
    "e": "ব",
    "f": "ভ",
    "g": "ম",
    "h": "য",
    "i": "র",
    "j": "ল",
    "k": "শ",
    "l": "ষ",
    "m": "স",
    "n": "হ",
    "o": "ড়",
    "p": "ঢ়",
    "q": "য়",
    "r": "ৎ",
    # Signs
    "s": "ং",
    "t": "ঃ",
    "u": CHANDRABINDU,
    "&": HASANTA,
    "|": "।",
    "Ñ": "-",
    "Ò": "“",
    "Ó": "”",
    "Ô": "‘",
    "Õ": "’",
    # Digits: the font draws ASCII digits as Bangla digits
    "0": "০",
    "1": "১",
    "2": "২",
    "3": "৩",
    "4": "৪",
    "5": "৫",
    "6": "৬",
    "7": "৭",
    "8": "৮",
    "9": "৯",
    # Vowel signs after the consonant
    "v": "া",
    "x": "ী",
    "y": "ু",
    "z": "ু",
    "“": "ু",
    "–": "ু",
    "~": "ূ",
    "ƒ": "ূ",
    "‚": "ূ",
    "„": "ৃ",
    "…": "ৃ",
    "Š": "ৗ",
    # Vowel signs drawn before the consonant (moved after it)
    "w": _PRE_I,
    "†": _PRE_E,
    "‡": _PRE_E,
    "ˆ": _PRE_OI,
    "‰": _PRE_OI,
    # Reph (moved before the cluster it follows)
    "©": _REPH,
    # Half forms that join the next consonant
    "•": "ঙ্",
    "”": "চ্",
    "˜": "দ্",
    "™": "দ্",
    "š": "ন্",
    "›": "ন্",
    "¤": "ম্",
    "®": "ষ্",
    "¯": "স্",
    # Forms that join the previous consonant (phala and the lower parts of conjuncts)
    "^": "্ব",
    "‘": "্তু",
    "’": "্থ",
    "‹": "্ক",
    "Œ": "্ক্র",
    "—": "্ত",
    "Í": "্ত",
    "œ": "্ন",
    "è": "্ন",
    "Ÿ": "্ব",
    "¡": "্ব",
    "¦": "্ব",
    "¢": "্ভ",
    "£": "্ভ্র",
    "¥": "্ম",
    "§": "্ম",
    "¨": "্য",
    "ª": "্র",
    "«": "্র",
    "Ö": "্র",
    "¬": "্ল",
    "\u00ad": "্ল",
    "ú": "্প",
    "¿": "্ত্র",
    # Conjunct glyphs
    "°": "ক্ক",
    "±": "ক্ট",
    "²": "ক্ষ্ম",
    "³": "ক্ত",
    "´": "ক্ম",
    "µ": "ক্র",
    "¶": "ক্ষ",
    "·": "ক্স",
    "¸": "গু",
    "¹": "জ্ঞ",
    "º": "গ্দ",
    "»": "গ্ধ",
    "¼": "ঙ্ক",
    "½": "ঙ্গ",
    "¾": "জ্জ",
    "À": "জ্ঝ",
    "Á": "জ্ঞ",
    "Â": "ঞ্চ",
    "Ã": "ঞ্ছ",
    "Ä": "ঞ্জ",
    "Å": "ঞ্ঝ",
    "Æ": "ট্ট",
    "Ç": "ড্ড",
    "È": "ণ্ট",
    "É": "ণ্ঠ",
    "Ê": "ণ্ড",
    "Ë": "ত্ত",
    "Ì": "ত্থ",
    "Î": "ত্র",
    "Ï": "দ্দ",
    "×": "দ্ধ",
    "Ø": "দ্ব",
    "Ù": "দ্ম",
    "Ú": "ন্ঠ",
    "Û": "ন্ড",
    "Ü": "ন্ধ",
    "Ý": "ন্স",
    "Þ": "প্ট",
    "ß": "প্ত",
    "à": "প্প",
    "á": "প্স",
    "â": "ব্জ",
    "ã": "ব্দ",
    "ä": "ব্ধ",
    "å": "ভ্র",
    "æ": "ম্ন",
    "ç": "ম্ফ",
    "é": "ল্ক",
    "ê": "ল্গ",
    "ë": "ল্ট",
    "ì": "ল্ড",
    "í": "ল্প",
    "î": "ল্ফ",
    "ï": "শু",
    "ð": "শ্চ",
    "ñ": "শ্ছ",
    "ò": "ষ্ণ",
    "ó": "ষ্ট",
    "ô": "ষ্ঠ",
    "õ": "ষ্ফ",
    "ö": "স্খ",
    "÷": "স্ট",
    "ø": "স্ন",
    "ù": "স্ফ",
    "û": "হু",
    "ü": "হৃ",
    "ý": "হ্ন",
    "þ": "হ্ম",
}
_TRANSLATION = str.maketrans(_TABLE)

# ড় ঢ় য় are written here (and by NFC) as the letter + nukta; the nukta is no consonant of its own.
_CONSONANTS = frozenset("কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহৎ\u09dc\u09dd\u09df")
_POST_VOWEL_SIGNS = frozenset("াীুূৃৗ")

# Typing slips the font hides: a sign typed twice draws once, so it was typed twice.
_DOUBLED = ((HASANTA + HASANTA, HASANTA), ("াা", "া"), ("ুু", "ু"), ("ৃৃ", "ৃ"), ("ু" + HASANTA, "ু"))


def _cluster_end(text: str, start: int) -> int:
    """The end of the consonant cluster starting at ``start`` (consonant [nukta] (্ consonant)*)."""
    position = start
    length = len(text)
    if position >= length or text[position] not in _CONSONANTS:
        return start
    while True:
        position += 1
        if position < length and text[position] == NUKTA:
            position += 1
        if position + 1 < length and text[position] == HASANTA and text[position + 1] in _CONSONANTS:
            position += 1
            continue
        return position


def _cluster_start(text: str, end: int) -> int:
    """The start of the consonant cluster ending just before ``end``."""
    position = end - 1
    if position >= 0 and text[position] == NUKTA:
        position -= 1
    if position < 0 or text[position] not in _CONSONANTS:
        return end
    while position >= 2 and text[position - 1] == HASANTA and text[position - 2] in _CONSONANTS:
        position -= 2
    if position >= 2 and text[position - 1] == HASANTA and text[position - 2] == NUKTA:
        position -= 3
    return position


def _place_reph(text: str) -> str:
    while _REPH in text:
        at = text.index(_REPH)
        end = at
        # Reph is sometimes typed after the vowel sign of its cluster: Kv© as well as K©v.
        while end > 0 and (text[end - 1] in _POST_VOWEL_SIGNS or text[end - 1] == CHANDRABINDU):
            end -= 1
        start = _cluster_start(text, end)
        if start == end:  # nothing to sit on: keep the র্ where it was typed
            text = text[:at] + "র" + HASANTA + text[at + 1 :]
            continue
        text = text[:start] + "র" + HASANTA + text[start:at] + text[at + 1 :]
    return text


def _place_pre_kars(text: str) -> str:
    out: list[str] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        sign = _PRE_KAR_SIGN.get(char)
        if sign is None:
            out.append(char)
            position += 1
            continue
        after = position + 1
        held = ""
        # A chandrabindu typed between the sign and its consonant belongs after the vowel sign.
        if after < length and text[after] == CHANDRABINDU:
            held, after = CHANDRABINDU, after + 1
        end = _cluster_end(text, after)
        if end == after:  # no consonant follows: keep the sign where it is
            out.append(held + sign)
            position = after
            continue
        out.append(text[after:end])
        if sign == "ে" and end < length and text[end] in "াৗ":
            out.append("ো" if text[end] == "া" else "ৌ")
            end += 1
        else:
            out.append(sign)
        out.append(held)
        position = end
    return "".join(out)


def bijoy_to_unicode(text: str) -> str:
    """Unicode Bangla (NFC) for text typed with the Bijoy keyboard in a SutonnyMJ-style font."""
    if not text:
        return text
    # Text that went through Latin-1 instead of Windows-1252 holds C1 controls where 1252 has
    # † ‡ ˆ ‰ Š and the quotes: put back what the keyboard typed.
    if any("\x80" <= char <= "\x9f" for char in text):
        text = text.encode("latin-1").decode("cp1252", errors="ignore")
    converted = text.translate(_TRANSLATION)
    for doubled, single in _DOUBLED:
        converted = converted.replace(doubled, single)
    converted = _place_reph(converted)
    converted = _place_pre_kars(converted)
    converted = converted.replace("অা", "আ").replace(HASANTA + HASANTA, HASANTA)
    return unicodedata.normalize("NFC", converted)


# --- Spotting Bijoy ------------------------------------------------------------------------------

# Characters of the SutonnyMJ table that are neither letters of a European language nor common
# punctuation: one of them in a name is a strong sign of Bijoy text.
_STRONG = frozenset("†‡ˆ‰Š‹Œ˜™›œŸ¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿×÷`|^~")
_CAMEL = re.compile(r"[a-z][A-Z]")  # AvKvk, gvRvi: Bangla consonants are upper-case keys
_CONSONANT_THEN_SIGN = re.compile(r"[A-Z_][vwxyz]")  # Kv, Zv, Ly, Av
_ENDS_WITH_AA = re.compile(r"[a-z]v[bgjkmnq]?$|vt$")  # evsjv, ingvb, gvt: ends in া (+ a consonant)
_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-z]{4,}")  # vsjv: no English vowel for four letters
_WORD = re.compile(r"\S+")


def _word_looks_bijoy(word: str) -> bool:
    if any(char in _STRONG for char in word):
        return True
    weak = (
        bool(_CAMEL.search(word))
        + bool(_CONSONANT_THEN_SIGN.search(word))
        + bool(_ENDS_WITH_AA.search(word))
        + bool(_CONSONANT_RUN.search(word))
    )
    return weak >= 2


def _could_be_bijoy(text: str) -> bool:
    """Bijoy text is Windows-1252: no Bangla letters, nothing beyond the code page."""
    return all(char <= "\u00ff" or char in _CP1252_HIGH for char in text)


_CP1252_HIGH = frozenset(bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore"))


def bijoy_share(texts: Iterable[str]) -> float:
    """The share (0 to 1) of words in ``texts`` that look typed in Bijoy; 0 if any is not 1252 text."""
    words = 0
    bijoy_words = 0
    for text in texts:
        if not text:
            continue
        if not _could_be_bijoy(text):
            return 0.0
        for match in _WORD.finditer(text):
            word = match.group()
            if not any(char.isalpha() for char in word) and not any(char in _STRONG for char in word):
                continue
            words += 1
            bijoy_words += _word_looks_bijoy(word)
    return bijoy_words / words if words else 0.0


def looks_like_bijoy(text: str | Iterable[str], *, threshold: float = 0.3) -> bool:
    """Whether to suggest Bijoy conversion for a cell, or for a column's values taken together.

    A suggestion only: the person importing decides. A column of Bangla names typed in Bijoy is
    full of ‡gvt (মোঃ), †eMg (বেগম), LvZzb (খাতুন); English or Vietnamese names have none of the
    font's symbols and rarely an upper-case letter after a lower-case one.
    """
    texts = [text] if isinstance(text, str) else text
    return bijoy_share(texts) >= threshold


def convert_if_bijoy(text: str) -> str:
    """``bijoy_to_unicode`` for a cell that can be Bijoy text; any other cell as it is.

    A column converted on request may still hold cells typed in Unicode (Bangla, Vietnamese with
    its marks, Thai): those have characters outside Windows-1252 and are left alone.
    """
    if not text or not _could_be_bijoy(text) or not any(char.isalpha() for char in text):
        return text
    return bijoy_to_unicode(text)
