"""The member types a new cooperative starts with, named in its own language (editable afterwards).

Cooperative law in each country knows full members, who vote and borrow, and associate members
(Thai สมาชิกสมทบ, Vietnamese thành viên liên kết), who save but do not vote.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PresetMemberType:
    code: str
    names: dict[str, str]


DEFAULT_MEMBER_TYPES: tuple[PresetMemberType, ...] = (
    PresetMemberType(
        "ORD",
        {
            "en": "Ordinary member",
            "bn": "সাধারণ সদস্য",
            "vi": "Thành viên chính thức",
            "th": "สมาชิกสามัญ",
        },
    ),
    PresetMemberType(
        "ASSOC",
        {
            "en": "Associate member",
            "bn": "সহযোগী সদস্য",
            "vi": "Thành viên liên kết",
            "th": "สมาชิกสมทบ",
        },
    ),
)
DEFAULT_MEMBER_TYPE_CODE = "ORD"


def name_in(names: dict[str, str], language: str) -> str:
    return names.get(language) or names["en"]
