"""Report fixtures: one small set of books in alpha, posted through the real services.

Amounts (BDT, minor units) and where they land, so that every report's figures can be checked by hand:

==========  ======  =============================================  ==========================
day         branch  movement                                        ledger
==========  ======  =============================================  ==========================
2026-02-16  HO      deposit HO VOL 2,000.00                         1100-HO / 2100-VOL
2026-02-16  HO      10 shares for HO member, 1,000.00               1100-HO / 3100
2026-03-02  HO      deposit HO VOL 10,000.00                        1100-HO / 2100-VOL
2026-03-02  HO      deposit HO CMP 1,500.00                         1100-HO / 2100-CMP
2026-03-02  BR1     deposit BR1 VOL 2,500.50                        1100-BR1 / 2100-VOL
2026-03-02  BR1     5 shares for BR1 member, 500.00                 1100-BR1 / 3100
2026-03-10  HO      withdrawal HO VOL 1,200.25                      2100-VOL / 1100-HO
2026-03-10  HO      transfer HO VOL to HO CMP 300.00                2100-VOL / 2100-CMP
2026-03-10  BR1     fee received 150.00 (journal)                   1100-BR1 / 4300
2026-03-10  HO      office expense 75.00 (journal)                  5300 / 1100-HO
2026-04-06  BR1     deposit BR1 VOL 1,00,000.00                     1100-BR1 / 2100-VOL
2026-04-06  HO      2 shares for HO member, 200.00                  1100-HO / 3100
==========  ======  =============================================  ==========================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from core_banking.ledger.services import LineSpec, journal_post
from core_banking.members.models import Member
from core_banking.organisation.models import Branch
from core_banking.savings.models import SavingsAccount, SavingsProduct
from core_banking.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_transfer,
    savings_withdraw,
)
from core_banking.shares.models import ShareSettings
from core_banking.shares.services import share_purchase
from tests.conftest import Workspace

# Fixtures shared with the shares tests: share terms, two products, a member in each branch, and a
# branch manager limited to BR1.
from tests.core_banking.shares.conftest import (  # noqa: F401 - fixtures
    br1_manager,
    br1_member,
    compulsory,
    member,
    terms,
    voluntary,
)

FEB = dt.date(2026, 2, 16)
MAR_2 = dt.date(2026, 3, 2)
MAR_10 = dt.date(2026, 3, 10)
MAR_1 = dt.date(2026, 3, 1)
MAR_31 = dt.date(2026, 3, 31)
APR_6 = dt.date(2026, 4, 6)
APR_30 = dt.date(2026, 4, 30)


@dataclass(frozen=True)
class Books:
    ho: Branch
    br1: Branch
    member: Member
    br1_member: Member
    ho_voluntary: SavingsAccount
    ho_compulsory: SavingsAccount
    br1_voluntary: SavingsAccount


@pytest.fixture
def books(
    *,
    in_alpha: Workspace,
    terms: ShareSettings,  # noqa: F811
    voluntary: SavingsProduct,  # noqa: F811
    compulsory: SavingsProduct,  # noqa: F811
    member: Member,  # noqa: F811
    br1_member: Member,  # noqa: F811
) -> Books:
    ho = Branch.objects.get(is_head_office=True)
    br1 = Branch.objects.get(code="BR1")
    ho_voluntary = savings_account_open(actor=None, member=member, product=voluntary, opened_on=FEB)
    ho_compulsory = savings_account_open(actor=None, member=member, product=compulsory, opened_on=MAR_2)
    br1_voluntary = savings_account_open(actor=None, member=br1_member, product=voluntary, opened_on=MAR_2)

    savings_deposit(account_id=ho_voluntary.pk, amount_minor=2_000_00, value_date=FEB, idempotency_key="b-1")
    share_purchase(member_id=member.pk, shares=10, value_date=FEB, idempotency_key="b-2")

    savings_deposit(
        account_id=ho_voluntary.pk, amount_minor=10_000_00, value_date=MAR_2, idempotency_key="b-3"
    )
    savings_deposit(
        account_id=ho_compulsory.pk, amount_minor=1_500_00, value_date=MAR_2, idempotency_key="b-4"
    )
    savings_deposit(
        account_id=br1_voluntary.pk, amount_minor=2_500_50, value_date=MAR_2, idempotency_key="b-5"
    )
    share_purchase(member_id=br1_member.pk, shares=5, value_date=MAR_2, idempotency_key="b-6")

    savings_withdraw(
        account_id=ho_voluntary.pk, amount_minor=1_200_25, value_date=MAR_10, idempotency_key="b-7"
    )
    savings_transfer(
        from_account_id=ho_voluntary.pk,
        to_account_id=ho_compulsory.pk,
        amount_minor=300_00,
        value_date=MAR_10,
        idempotency_key="b-8",
    )
    journal_post(
        idempotency_key="b-9",
        value_date=MAR_10,
        branch=br1,
        memo="Passbook fee",
        lines=[LineSpec("1100-BR1", debit_minor=150_00), LineSpec("4300", credit_minor=150_00)],
    )
    journal_post(
        idempotency_key="b-10",
        value_date=MAR_10,
        branch=ho,
        memo="Stationery",
        lines=[LineSpec("5300", debit_minor=75_00), LineSpec("1100-HO", credit_minor=75_00)],
    )

    savings_deposit(
        account_id=br1_voluntary.pk, amount_minor=100_000_00, value_date=APR_6, idempotency_key="b-11"
    )
    share_purchase(member_id=member.pk, shares=2, value_date=APR_6, idempotency_key="b-12")
    return Books(ho, br1, member, br1_member, ho_voluntary, ho_compulsory, br1_voluntary)
