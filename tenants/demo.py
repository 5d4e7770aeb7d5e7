"""The demo: two cooperatives with staff in every role. Loading it twice changes nothing.

Later capabilities add their demo data by appending a loader to ``DEMO_EXTENSIONS``; each
loader runs inside a demo workspace and must itself be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django_tenants.utils import tenant_context

from core_banking.accounting.demo import accounting_demo_load
from core_banking.lending.demo import lending_demo_load
from core_banking.members.demo import members_demo_load
from core_banking.organisation.models import Branch
from core_banking.organisation.services import branch_create
from core_banking.savings.demo import savings_demo_load
from core_banking.shares.demo import shares_demo_load
from core_banking.staff.roles import Role
from core_banking.staff.services import staff_user_create
from tenants.models import Cooperative, Lifecycle
from tenants.services import AdminSpec, CooperativeSpec, cooperative_provision

DEMO_PASSWORD = "coopcore-demo"  # noqa: S105 - the published demo log-in, printed by `make run`


@dataclass(frozen=True)
class DemoStaff:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    branch_code: str
    approver_level: int | None = None
    all_branches: bool = False


@dataclass(frozen=True)
class DemoCooperative:
    spec: CooperativeSpec
    branches: tuple[tuple[str, str], ...]
    staff: tuple[DemoStaff, ...]
    admin_first_name: str
    admin_last_name: str = ""
    notes: tuple[str, ...] = field(default=())


DEMO_COOPERATIVES: tuple[DemoCooperative, ...] = (
    DemoCooperative(
        spec=CooperativeSpec(
            name="রূপালী সঞ্চয় ও ঋণদান সমবায় সমিতি",
            slug="rupali",
            country="BD",
            registration_number="DHA-2011-0457",
        ),
        branches=(("MIR", "মিরপুর শাখা"), ("SAV", "সাভার শাখা")),
        admin_first_name="রহিম",
        admin_last_name="উদ্দিন",
        staff=(
            DemoStaff("manager", "ফারহানা", "আক্তার", (Role.BRANCH_MANAGER,), "MIR"),
            DemoStaff("accountant", "কামাল", "হোসেন", (Role.ACCOUNTANT,), "HO", all_branches=True),
            DemoStaff("loanofficer", "নাসরিন", "সুলতানা", (Role.LOAN_OFFICER,), "MIR"),
            DemoStaff("approver1", "মিজানুর", "রহমান", (Role.APPROVER,), "MIR", approver_level=1),
            DemoStaff(
                "approver2", "সেলিনা", "পারভীন", (Role.APPROVER,), "HO", approver_level=2, all_branches=True
            ),
            DemoStaff("field", "আব্দুল", "করিম", (Role.FIELD_OFFICER,), "MIR"),
            DemoStaff("auditor", "শাহানা", "বেগম", (Role.AUDITOR,), "HO", all_branches=True),
        ),
    ),
    DemoCooperative(
        spec=CooperativeSpec(
            name="Tổ Tiết kiệm và Vay vốn Bình Minh",
            slug="binhminh",
            country="VN",
            registration_number="HTX-0312-2019",
        ),
        branches=(("TB", "Chi nhánh Thái Bình"),),
        admin_first_name="Nguyễn Văn",
        admin_last_name="An",
        staff=(
            DemoStaff("manager", "Trần Thị", "Bích", (Role.BRANCH_MANAGER,), "TB"),
            DemoStaff("accountant", "Lê Văn", "Cường", (Role.ACCOUNTANT,), "HO", all_branches=True),
            DemoStaff("approver1", "Phạm Thị", "Dung", (Role.APPROVER,), "TB", approver_level=1),
            DemoStaff("field", "Hoàng Văn", "Em", (Role.FIELD_OFFICER,), "TB"),
            DemoStaff("auditor", "Vũ Thị", "Hoa", (Role.AUDITOR,), "HO", all_branches=True),
        ),
    ),
)

DemoExtension = Callable[[Cooperative, DemoCooperative], None]
DEMO_EXTENSIONS: list[DemoExtension] = [
    members_demo_load,
    savings_demo_load,
    shares_demo_load,
    accounting_demo_load,
    lending_demo_load,
]


def _load_organisation_and_staff(cooperative: Cooperative, demo: DemoCooperative) -> None:
    from control_plane.identity.models import User
    from core_banking.ledger.services import branch_cash_account_ensure, chart_of_accounts_seed

    # A demo made by an earlier version catches up with what provisioning seeds today.
    chart_of_accounts_seed(language=cooperative.default_language)
    for branch in Branch.objects.all():
        branch_cash_account_ensure(branch=branch, language=cooperative.default_language)
    for code, name in demo.branches:
        if not Branch.objects.filter(code=code).exists():
            branch_create(actor=None, code=code, name=name)
    for person in demo.staff:
        if User.objects.filter(username=person.username).exists():
            continue
        staff_user_create(
            actor=None,
            username=person.username,
            password=DEMO_PASSWORD,
            first_name=person.first_name,
            last_name=person.last_name,
            roles=[role.value for role in person.roles],
            home_branch=Branch.objects.get(code=person.branch_code),
            approver_level=person.approver_level,
            all_branches=person.all_branches,
        )


def load_demo() -> list[Cooperative]:
    loaded = []
    for demo in DEMO_COOPERATIVES:
        cooperative = Cooperative.objects.filter(slug=demo.spec.slug).first()
        if cooperative is None:
            cooperative = cooperative_provision(
                spec=demo.spec,
                admin=AdminSpec(
                    username="admin",
                    password=DEMO_PASSWORD,
                    first_name=demo.admin_first_name,
                    last_name=demo.admin_last_name,
                ),
                lifecycle=Lifecycle.ACTIVE,
            )
        with tenant_context(cooperative):
            _load_organisation_and_staff(cooperative, demo)
            for extension in DEMO_EXTENSIONS:
                extension(cooperative, demo)
        loaded.append(cooperative)
    return loaded
