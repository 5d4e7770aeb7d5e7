"""Bangla typed with the Bijoy keyboard (SutonnyMJ font) to Unicode, on real words and names."""

from __future__ import annotations

import unicodedata

import pytest

from imports.engine.bijoy import bijoy_share, bijoy_to_unicode, convert_if_bijoy, looks_like_bijoy
from imports.engine.sample import (
    BANGLA_MEN,
    BANGLA_MEN_FAMILY,
    BANGLA_TITLE,
    BANGLA_WOMEN,
    BANGLA_WOMEN_FAMILY,
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.mark.parametrize(
    ("bijoy", "unicode"),
    [
        ("Avgvi †mvbvi evsjv", "আমার সোনার বাংলা"),
        ("‡gvt Kwig", "মোঃ করিম"),
        ("dv‡Zgv †eMg", "ফাতেমা বেগম"),  # pre-base ে before a consonant
        ("iwngv LvZzb", "রহিমা খাতুন"),  # pre-base ি
        ("ˆZwi", "তৈরি"),  # pre-base ৈ
        ("‡KŠkj", "কৌশল"),  # two-part ৌ: ে … ৗ
        ("‡gvnv¤§`", "মোহাম্মদ"),  # two-part ো: ে … া, and a half form ¤ joined to § (্ম)
        ("c`©v", "পর্দা"),  # reph after its consonant moves before it
        ("`‚ieZ©x", "দূরবর্তী"),
        ("Kvh©", "কার্য"),
        ("c~wY©gv", "পূর্ণিমা"),  # reph and a pre-base ি on the same consonant
        ("Kg©KZ©v", "কর্মকর্তা"),
        ("Avwg©", "আর্মি"),
        ("Avš—R©vwZK", "আন্তর্জাতিক"),  # half form š + — joins as ন্ত
        ("ivR¨", "রাজ্য"),  # ya-phala
        ("kÖwgK", "শ্রমিক"),  # ra-phala after its consonant
        ("†cÖg", "প্রেম"),  # pre-base ে around a ra-phala cluster
        ("`ª“ZB", "দ্রুতই"),
        ("wek¦vm", "বিশ্বাস"),  # ba-phala
        ("w¯Œ‡b", "স্ক্রিনে"),  # ি over a three-consonant cluster
        ("†W‡¯‹i", "ডেস্কের"),
        ("ev¯Íe", "বাস্তব"),
        ("kvwšÍ", "শান্তি"),
        ("j²x", "লক্ষ্মী"),
        ("Av³vi", "আক্তার"),
        ("Rvnv½xi", "জাহাঙ্গীর"),
        ("Dbœqb", "উন্নয়ন"),
        ("‡iv‡Kqv", "রোকেয়া"),
        ("†LvuR", "খোঁজ"),  # chandrabindu after the vowel sign
        ("mwgwZ", "সমিতি"),
        ("Mvwo", "গাড়ি"),  # ি around a nukta letter
        ("c‡o", "পড়ে"),
        ("ÔmgevqÕ", "‘সমবায়’"),
        ("e¨vsK 1234", "ব্যাংক ১২৩৪"),  # the font draws ASCII digits as Bangla digits
    ],
)
def test_words(bijoy, unicode):  # type: ignore[no-untyped-def]
    assert bijoy_to_unicode(bijoy) == nfc(unicode)


def test_a_sentence_with_punctuation():
    bijoy = (
        "‡Kv‡bv †Kv‡bv w`b, AvKvk‡Rvov †gN K‡i, Kv‡R gb e‡m bv| †W‡¯‹i mvg‡bi Rvbvjvi c`©v Zz‡j w`B| "
        "w¯Œ‡b ZvKvB, †`wL bv, `‚ieZ©x AvKvk I Bgvi‡Z wKQz †LvuR _v‡K|"
    )
    expected = (
        "কোনো কোনো দিন, আকাশজোড়া মেঘ করে, কাজে মন বসে না। ডেস্কের সামনের জানালার পর্দা তুলে দিই। "
        "স্ক্রিনে তাকাই, দেখি না, দূরবর্তী আকাশ ও ইমারতে কিছু খোঁজ থাকে।"
    )
    assert bijoy_to_unicode(bijoy) == nfc(expected)


def test_every_name_the_sample_writes_in_bijoy_converts_back():
    pairs = [*BANGLA_WOMEN, *BANGLA_WOMEN_FAMILY, *BANGLA_MEN, *BANGLA_MEN_FAMILY, BANGLA_TITLE]
    wrong = [
        (bijoy, bijoy_to_unicode(bijoy), unicode)
        for unicode, bijoy in pairs
        if bijoy_to_unicode(bijoy) != nfc(unicode)
    ]
    assert wrong == []


def test_latin1_instead_of_1252_is_repaired():
    # A file read as Latin-1 turns ‡ (0x87 in 1252) into the control character U+0087.
    assert bijoy_to_unicode("‡gvt Kwig".encode("cp1252").decode("latin-1")) == "মোঃ করিম"


def test_unicode_cells_are_left_alone_when_a_column_is_converted():
    assert convert_if_bijoy("রহিমা খাতুন") == "রহিমা খাতুন"
    assert convert_if_bijoy("Nguyễn Thị Hoa") == "Nguyễn Thị Hoa"
    assert convert_if_bijoy("สมชาย ใจดี") == "สมชาย ใจดี"
    assert convert_if_bijoy("‡gvt Kwig") == "মোঃ করিম"
    assert convert_if_bijoy("") == ""


@pytest.mark.parametrize(
    "text", ["Avgvi †mvbvi evsjv", "‡gvt Kwig", "iwngv LvZzb", "dv‡Zgv †eMg", "gwReyi ingvb", "Rvnv½xi Avjg"]
)
def test_bijoy_is_spotted(text):  # type: ignore[no-untyped-def]
    assert looks_like_bijoy(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mohammad Karim",
        "Rahima Khatun",
        "Nguyễn Văn An",
        "Nguyen Van An",
        "สมชาย ใจดี",
        "রহিমা খাতুন",
        "Evan Avery",
        "Ivan Owen",
        "Lindstrom Schmidt",
        "John O'Brien",
        "Dave Levi",
    ],
)
def test_other_text_is_not_taken_for_bijoy(text):  # type: ignore[no-untyped-def]
    assert not looks_like_bijoy(text)


def test_a_column_is_judged_as_a_whole():
    # "Kwig", "DwÏb" and "Avjx" alone look like nothing in particular; the column as a whole does.
    column = ["‡gvt Kwig DwÏb", "iwngv LvZzb", "Kwig Avjx", "Rvgvj †nv‡mb", "mvjgv †eMg"]
    assert bijoy_share(column) == pytest.approx(7 / 11)
    assert looks_like_bijoy(column)
    assert not looks_like_bijoy(["Kwig Avjx"])
    assert bijoy_share(["Rahima Khatun", "Abdul Karim", "Fatema Begum"]) == 0
    # One cell outside Windows-1252 (real Unicode Bangla) means the column is not Bijoy.
    assert bijoy_share([*column, "রহিমা"]) == 0
