"""Demo members and groups for the demo cooperatives (registered in ``tenants.demo.DEMO_EXTENSIONS``).

Idempotent: groups are found by code and members by national ID, so loading again adds nothing.
Everything goes through the services, as a real admission would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from control_plane.identity.models import User
from core_banking.members.models import Member, MemberGroup, MemberType
from core_banking.members.presets import DEFAULT_MEMBER_TYPE_CODE
from core_banking.members.services import (
    GroupData,
    MemberData,
    NomineeData,
    group_create,
    group_data_of,
    group_update,
    member_create,
    member_types_seed,
)
from core_banking.organisation.models import Branch

if TYPE_CHECKING:
    from tenants.demo import DemoCooperative
    from tenants.models import Cooperative


@dataclass(frozen=True)
class DemoGroup:
    branch_code: str
    code: str
    name: str
    weekday: int
    place: str
    field_officer: str | None


@dataclass(frozen=True)
class DemoPerson:
    full_name: str
    guardian_name: str
    gender: str
    nominee: tuple[str, str]  # name, relationship


# --- Rupali (Bangladesh): women's samity groups in Mirpur and Savar --------------------------------

RUPALI_GROUPS = (
    DemoGroup("MIR", "MIR-01", "শাপলা মহিলা সমিতি", 1, "পল্লবী প্রাথমিক বিদ্যালয় মাঠ", "field"),
    DemoGroup("MIR", "MIR-02", "পদ্মা মহিলা সমিতি", 3, "কালশী বাজার", "field"),
    DemoGroup("SAV", "SAV-01", "যমুনা মহিলা সমিতি", 6, "হেমায়েতপুর মসজিদ প্রাঙ্গণ", None),
)
_BN_WOMEN = (
    "রহিমা বেগম", "সালমা খাতুন", "ফাতেমা আক্তার", "নাসরিন সুলতানা", "শাহনাজ পারভীন", "রোকসানা বেগম",
    "মমতাজ বেগম", "জাহানারা খাতুন", "পারভীন আক্তার", "শিউলি রানী দাস", "রুবিনা ইয়াসমিন", "হাসিনা বেগম",
    "কুলসুম আক্তার", "আমেনা খাতুন", "সুফিয়া বেগম", "রাশিদা আক্তার", "মর্জিনা বেগম", "লাকি আক্তার",
    "ময়না খাতুন", "তাসলিমা নাসরিন", "জেসমিন আরা", "নূরজাহান বেগম", "কোহিনূর আক্তার", "মাহমুদা খাতুন",
    "সেলিনা হোসেন", "রেহানা পারভীন", "আছিয়া বেগম", "ফরিদা ইয়াসমিন", "শিরিন আক্তার", "বিলকিস বেগম",
)  # fmt: skip
_BN_HUSBANDS = (
    "আব্দুল করিম", "মোহাম্মদ রফিক", "জসিম উদ্দিন", "আলমগীর হোসেন", "কামরুল ইসলাম", "শফিকুল ইসলাম",
    "নুরুল হক", "মিজানুর রহমান", "হাবিবুর রহমান", "আনোয়ার হোসেন",
)  # fmt: skip
_BN_CHILDREN = ("সুমন", "রাকিব", "তানিয়া", "মিতু", "সজীব")

# --- Binh Minh (Vietnam): savings-and-loan groups of two villages ---------------------------------

BINHMINH_GROUPS = (
    DemoGroup("TB", "TB-01", "Tổ TK&VV thôn Đông", 0, "Nhà văn hóa thôn Đông", "field"),
    DemoGroup("TB", "TB-02", "Tổ TK&VV thôn Tây", 2, "Nhà văn hóa thôn Tây", "field"),
)
_VI_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô")
_VI_WOMEN = ("Lan", "Hoa", "Hương", "Mai", "Hạnh", "Thủy", "Nga", "Hằng", "Yến", "Loan")
_VI_MEN = ("Bình", "Dũng", "Hùng", "Minh", "Tuấn", "Đức", "Sơn", "Quang", "Thắng", "Long")


def _bangla_people() -> list[DemoPerson]:
    return [
        DemoPerson(
            full_name=name,
            guardian_name=_BN_HUSBANDS[index % len(_BN_HUSBANDS)],
            gender="female",
            nominee=(_BN_HUSBANDS[index % len(_BN_HUSBANDS)], "স্বামী")
            if index % 3
            else (_BN_CHILDREN[index % len(_BN_CHILDREN)], "সন্তান"),
        )
        for index, name in enumerate(_BN_WOMEN)
    ]


def _vietnamese_people() -> list[DemoPerson]:
    people = []
    for index in range(30):
        family = _VI_FAMILY[(index * 3) % len(_VI_FAMILY)]
        woman = index % 3 != 2  # most members of these groups are women
        given = _VI_WOMEN[index % len(_VI_WOMEN)] if woman else _VI_MEN[index % len(_VI_MEN)]
        spouse_family = _VI_FAMILY[(index * 7 + 1) % len(_VI_FAMILY)]
        spouse_given = (_VI_MEN if woman else _VI_WOMEN)[(index + 3) % 10]
        spouse = f"{spouse_family} {'Văn' if woman else 'Thị'} {spouse_given}"
        people.append(
            DemoPerson(
                full_name=f"{family} {'Thị' if woman else 'Văn'} {given}",
                guardian_name="",
                gender="female" if woman else "male",
                nominee=(spouse, "chồng" if woman else "vợ"),
            )
        )
    return people


def _national_id(country: str, index: int) -> str:
    if country == "VN":
        # CCCD: province 034 (Thái Bình), century-and-gender digit, two-digit birth year, six digits.
        return f"034{1 if index % 3 != 2 else 0}{70 + index % 25:02d}{100200 + index * 37:06d}"
    return f"{4610000000 + index * 7919}"  # a 10-digit smart-card NID


def _phone(country: str, index: int) -> str:
    return f"098{4100000 + index * 1301:07d}" if country == "VN" else f"017{11000000 + index * 90217:08d}"


def _groups(demo_groups: tuple[DemoGroup, ...]) -> dict[str, list[MemberGroup]]:
    by_branch: dict[str, list[MemberGroup]] = {}
    for spec in demo_groups:
        branch = Branch.objects.filter(code=spec.branch_code).first()
        if branch is None:
            continue
        group = MemberGroup.objects.filter(code=spec.code).first()
        if group is None:
            officer = User.objects.filter(username=spec.field_officer).first() if spec.field_officer else None
            group = group_create(
                actor=None,
                branch=branch,
                data=GroupData(
                    code=spec.code,
                    name=spec.name,
                    meeting_weekday=spec.weekday,
                    meeting_place=spec.place,
                    field_officer=officer,
                ),
            )
        by_branch.setdefault(spec.branch_code, []).append(group)
    return by_branch


def members_demo_load(cooperative: Cooperative, demo: DemoCooperative) -> None:
    """A few groups and about thirty members with nominees in each demo cooperative."""
    member_types_seed(language=cooperative.default_language)
    if cooperative.slug == "rupali":
        groups, people = _groups(RUPALI_GROUPS), _bangla_people()
    elif cooperative.slug == "binhminh":
        groups, people = _groups(BINHMINH_GROUPS), _vietnamese_people()
    else:
        return
    if not groups:
        return
    ordinary = MemberType.objects.get(code=DEFAULT_MEMBER_TYPE_CODE)
    slots = [group for branch_groups in groups.values() for group in branch_groups]
    today = cooperative.business_date()
    for index, person in enumerate(people):
        national_id = _national_id(cooperative.country, index)
        if Member.objects.filter(national_id=national_id).exists():
            continue
        group = slots[index % len(slots)]
        member = member_create(
            actor=None,
            branch=group.branch,
            data=MemberData(
                full_name=person.full_name,
                member_type=ordinary,
                join_date=today - dt.timedelta(days=60 + index * 41),
                guardian_name=person.guardian_name,
                gender=person.gender,
                date_of_birth=dt.date(1970 + index % 25, 1 + index % 12, 1 + index % 28),
                national_id=national_id,
                phone=_phone(cooperative.country, index),
                group=group,
            ),
            nominees=[NomineeData(name=person.nominee[0], relationship=person.nominee[1], share_percent=100)],
        )
        if group.leader_id is None:
            group = group_update(actor=None, group=group, data=replace(group_data_of(group), leader=member))
            slots[index % len(slots)] = group
