"""Text as member search compares it. Plain Python: no Django, tested directly.

Staff type names with or without Vietnamese diacritics, and digits in Bangla, Thai or Latin;
what is stored (``Member.search_text``) and what is typed both go through ``search_normalise``,
so a plain substring match in PostgreSQL (backed by a trigram index) finds either spelling.

Only marks on Latin letters are removed. Bangla and Thai vowel signs are combining marks too,
but they are part of the spelling: without them রহিম and রহম, or สมชาย and สมชัย, would be one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Letters that carry a stroke rather than a combining mark: NFKD leaves them as they are.
_LATIN_SPECIAL = str.maketrans(
    {"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe"}
)
_SPACES = re.compile(r"\s+")
_KEPT_PUNCTUATION = frozenset("-")


@lru_cache(maxsize=4096)
def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN ")


def fold_digits(text: str) -> str:
    """Every decimal digit (Bangla ০-৯, Thai ๐-๙, Arabic-Indic ...) as its Latin 0-9."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(char)) if unicodedata.category(char) == "Nd" else char for char in text
    )


def search_normalise(text: str) -> str:
    """Lower-case, Latin diacritics removed (đ → d), digits folded, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", fold_digits(text).translate(_LATIN_SPECIAL))
    kept: list[str] = []
    base = ""
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):
            if _is_latin(base):
                continue  # a Latin diacritic: "ễ" matches "e"
            kept.append(char)  # a Bangla or Thai vowel sign belongs to the word
            continue
        if category == "Cf":
            continue  # zero-width joiners and the like: typed by some keyboards and not others
        base = char
        if char.isalnum() or char in _KEPT_PUNCTUATION:
            kept.append(char)
        else:
            kept.append(" ")
    folded = unicodedata.normalize("NFC", "".join(kept).casefold())
    return _SPACES.sub(" ", folded).strip()


def search_text_for(*parts: str | None, extra: Iterable[str] = ()) -> str:
    """The stored search text of a member: name first (so prefix matches rank first), then the rest."""
    pieces = [search_normalise(part) for part in (*parts, *extra) if part]
    return " ".join(piece for piece in pieces if piece)


def like_escape(text: str) -> str:
    """A literal for SQL LIKE: its wildcards and the escape character itself are escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
