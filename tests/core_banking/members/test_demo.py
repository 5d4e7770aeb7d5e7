"""The demo's members: realistic, searchable, and loading twice adds nothing."""

from __future__ import annotations

from collections import Counter

from django_tenants.utils import tenant_context

from core_banking.members.demo import members_demo_load
from core_banking.members.models import Member, MemberGroup
from core_banking.members.selectors import member_search
from tenants.demo import DEMO_COOPERATIVES, DEMO_EXTENSIONS, _load_organisation_and_staff
from tests.conftest import Workspace


def test_the_demo_registers_the_members_loader() -> None:
    assert members_demo_load in DEMO_EXTENSIONS


def test_rupali_members_in_bangla_loaded_twice_stay_thirty(alpha: Workspace) -> None:
    """Loaded into the alpha workspace (a Bangladeshi samity), as the demo would load rupali."""
    rupali = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "rupali")
    cooperative = alpha.cooperative()
    cooperative.slug = "rupali"  # in memory only: the loader picks its data set by slug
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, rupali)
        members_demo_load(cooperative, rupali)
        members_demo_load(cooperative, rupali)
        assert Member.objects.count() == 30
        assert Counter(Member.objects.values_list("branch__code", flat=True)) == {"MIR": 20, "SAV": 10}
        assert all(member.nominees.count() == 1 for member in Member.objects.all())
        groups = MemberGroup.objects.order_by("code")
        assert [(g.code, g.leader is not None) for g in groups] == [
            ("MIR-01", True),
            ("MIR-02", True),
            ("SAV-01", True),
        ]
        assert groups[0].field_officer is not None and groups[0].field_officer.username == "field"
        assert [m.full_name for m in member_search("রহিমা", visible_branch_ids=None)] == ["রহিমা বেগম"]


def test_binhminh_members_in_vietnamese(beta: Workspace) -> None:
    binhminh = next(demo for demo in DEMO_COOPERATIVES if demo.spec.slug == "binhminh")
    cooperative = beta.cooperative()
    cooperative.slug = "binhminh"
    with tenant_context(cooperative):
        _load_organisation_and_staff(cooperative, binhminh)
        members_demo_load(cooperative, binhminh)
        members_demo_load(cooperative, binhminh)
        assert Member.objects.count() == 30
        assert all(len(member.national_id) == 12 for member in Member.objects.all())
        assert all(member.phone.startswith("+8498") for member in Member.objects.all())
        found = member_search("nguyen thi lan", visible_branch_ids=None)
        assert found and found[0].full_name == "Nguyễn Thị Lan"
