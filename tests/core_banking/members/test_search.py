"""Member search: names in Bangla, Thai and Vietnamese (with or without diacritics), numbers in any digits."""

from __future__ import annotations

import pytest
from django.db import connection

from core_banking.members.models import Member
from core_banking.members.selectors import member_search
from core_banking.organisation.models import Branch
from tests.conftest import Workspace
from tests.core_banking.members.helpers import new_member


def names(found: list[Member]) -> list[str]:
    return [member.full_name for member in found]


@pytest.fixture
def people(in_alpha: Workspace) -> dict[str, Member]:
    return {
        "rahima": new_member(full_name="রহিমা বেগম", national_id="1234567890", phone="01711000000"),
        "rahim": new_member(full_name="রহিম উদ্দিন", phone="01811222333"),
        "an": new_member(full_name="Nguyễn Văn An", phone="+84912345678"),
        "anh": new_member(full_name="Nguyễn Thị Ánh"),
        "dao": new_member(full_name="Đỗ Thị Đào"),
        "somchai": new_member(full_name="สมชาย ใจดี", phone="+66812345678"),
        "somsri": new_member(full_name="สมศรี มีสุข"),
        "karim": new_member(full_name="Md. Karim Mia", national_id="19901234567890123"),
    }


def search(query: str, **kwargs: object) -> list[str]:
    return names(member_search(query, visible_branch_ids=None, **kwargs))  # type: ignore[arg-type]


def test_bangla_names(people: dict[str, Member]) -> None:
    assert search("রহিমা") == ["রহিমা বেগম"]
    # "রহিম" is inside "রহিমা" too; the exact word ranks first.
    assert search("রহিম") == ["রহিম উদ্দিন", "রহিমা বেগম"]
    assert search("বেগম") == ["রহিমা বেগম"]


def test_thai_names(people: dict[str, Member]) -> None:
    assert search("สมชาย") == ["สมชาย ใจดี"]
    assert search("สม") == ["สมชาย ใจดี", "สมศรี มีสุข"]
    assert search("มีสุข") == ["สมศรี มีสุข"]


def test_vietnamese_with_and_without_diacritics(people: dict[str, Member]) -> None:
    assert search("nguyen van an") == ["Nguyễn Văn An"]
    assert search("Nguyễn Văn An") == ["Nguyễn Văn An"]
    assert search("NGUYEN VAN AN") == ["Nguyễn Văn An"]
    assert search("do thi dao") == ["Đỗ Thị Đào"]  # đ → d
    assert search("dao") == ["Đỗ Thị Đào"]
    assert sorted(search("nguyen")) == ["Nguyễn Thị Ánh", "Nguyễn Văn An"]
    assert search("anh") == ["Nguyễn Thị Ánh"]


def test_two_letters_match_where_a_word_begins(people: dict[str, Member]) -> None:
    # Too short for the trigram index to look inside words: the whole word ranks first.
    assert search("an") == ["Nguyễn Văn An", "Nguyễn Thị Ánh"]
    assert search("ar") == []  # inside "karim" only


def test_names_that_begin_with_the_words_rank_first(people: dict[str, Member]) -> None:
    new_member(full_name="Ánh Dương")  # admitted last, so the highest member number
    assert search("anh") == ["Ánh Dương", "Nguyễn Thị Ánh"]


def test_latin_names_ignore_punctuation_and_case(people: dict[str, Member]) -> None:
    assert search("karim") == ["Md. Karim Mia"]
    assert search("MD KARIM") == ["Md. Karim Mia"]


def test_member_number_in_any_digits_and_padding(people: dict[str, Member]) -> None:
    number = people["rahim"].number
    assert number == "BR1-000002"
    assert search("BR1-000002") == ["রহিম উদ্দিন"]
    assert search("br1-2") == ["রহিম উদ্দিন"]  # short form, any case
    assert search("BR1-০০০০০২") == ["রহিম উদ্দিন"]  # Bangla digits


def test_phone_as_typed_locally_or_internationally(people: dict[str, Member]) -> None:
    assert search("01711000000") == ["রহিমা বেগম"]
    assert search("+880 1711-000000") == ["রহিমা বেগম"]
    assert search("০১৭১১০০০০০০") == ["রহিমা বেগম"]  # Bangla digits
    assert search("0912345678") == ["Nguyễn Văn An"]  # a Vietnamese number in a Bangladeshi cooperative
    assert search("๐๘๑๒๓๔๕๖๗๘") == ["สมชาย ใจดี"]  # Thai digits
    assert search("222333") == ["রহিম উদ্দিন"]  # a part of the number


def test_national_id_in_any_digits(people: dict[str, Member]) -> None:
    # The exact holder first; Karim's 17-digit ID contains these ten digits, so it follows.
    assert search("1234567890") == ["রহিমা বেগম", "Md. Karim Mia"]
    assert search("১২৩৪৫৬৭৮৯০") == ["রহিমা বেগম", "Md. Karim Mia"]
    assert search("1990 1234 5678 90123") == ["Md. Karim Mia"]


def test_nothing_found_and_empty_queries(people: dict[str, Member]) -> None:
    assert search("zzzz") == []
    assert search("  ") == []
    assert search("x") == []


def test_limit_is_respected(people: dict[str, Member]) -> None:
    assert len(search("br1", limit=3)) == 3


def test_a_branch_limited_user_finds_only_their_branches(people: dict[str, Member]) -> None:
    branch_two = Branch.objects.create(code="BR2", name="Two")
    new_member(branch=branch_two, full_name="রহিমা খাতুন", national_id="9876543210")
    branch_one = Branch.objects.get(code="BR1")
    found = member_search("রহিমা", visible_branch_ids=[branch_one.pk])
    assert names(found) == ["রহিমা বেগম"]
    assert member_search("9876543210", visible_branch_ids=[branch_one.pk]) == []
    assert names(member_search("9876543210", visible_branch_ids=None)) == ["রহিমা খাতুন"]


def test_search_never_reaches_another_workspace(people: dict[str, Member], beta: Workspace) -> None:
    from django_tenants.utils import tenant_context

    with tenant_context(beta.cooperative()):
        assert member_search("nguyen", visible_branch_ids=None) == []
        assert member_search("1234567890", visible_branch_ids=None) == []


def test_the_workspace_has_the_trigram_index(in_alpha: Workspace) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'member_search_text_trgm'",
            [in_alpha.schema_name],
        )
        (definition,) = cursor.fetchone()  # type: ignore[misc]
    assert "gin" in definition and "gin_trgm_ops" in definition
