"""Demo office vouchers for the demo cooperatives (registered in ``tenants.demo.DEMO_EXTENSIONS``).

A few months of what a cooperative's office pays and takes besides members' money: the office
rent and stationery paid from the head office's cash, admission fees received. Through the
voucher service, with keys derived from the month, so loading again posts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core_banking.accounting.models import VoucherKind
from core_banking.accounting.services import VoucherLine, voucher_post
from core_banking.organisation.models import Branch

if TYPE_CHECKING:
    from tenants.demo import DemoCooperative
    from tenants.models import Cooperative

MONTHS = 3
OPERATING_EXPENSES = "5300"
FEE_INCOME = "4300"


@dataclass(frozen=True)
class DemoVoucher:
    key: str
    kind: VoucherKind
    account: str
    day_of_month: int
    narration: dict[str, str]
    amount_minor: dict[str, int]  # per currency


VOUCHERS = (
    DemoVoucher(
        "rent",
        VoucherKind.PAYMENT,
        OPERATING_EXPENSES,
        5,
        {"bn": "অফিস ভাড়া", "vi": "Tiền thuê văn phòng", "en": "Office rent"},
        {"BDT": 8_000_00, "VND": 3_500_000},
    ),
    DemoVoucher(
        "stationery",
        VoucherKind.PAYMENT,
        OPERATING_EXPENSES,
        12,
        {
            "bn": "খাতা, রসিদ বই ও স্টেশনারি",
            "vi": "Văn phòng phẩm, sổ sách",
            "en": "Ledgers, receipt books, stationery",
        },
        {"BDT": 1_250_00, "VND": 450_000},
    ),
    DemoVoucher(
        "fees",
        VoucherKind.RECEIPT,
        FEE_INCOME,
        20,
        {"bn": "নতুন সদস্যদের ভর্তি ফি", "vi": "Phí gia nhập của thành viên mới", "en": "Admission fees"},
        {"BDT": 2_400_00, "VND": 1_200_000},
    ),
)


def accounting_demo_load(cooperative: Cooperative, demo: DemoCooperative) -> None:
    """Rent and stationery paid, admission fees received, at the head office, for recent months."""
    head_office = Branch.objects.filter(is_head_office=True).first()
    if head_office is None or cooperative.currency not in VOUCHERS[0].amount_minor:
        return
    today = cooperative.business_date()
    language = cooperative.default_language
    for back in range(MONTHS, 0, -1):
        month = _months_before(today.replace(day=1), back)
        for voucher in VOUCHERS:
            day = month.replace(day=voucher.day_of_month)
            amount = voucher.amount_minor[cooperative.currency]
            line = (
                VoucherLine(voucher.account, credit_minor=amount)
                if voucher.kind == VoucherKind.RECEIPT
                else VoucherLine(voucher.account, debit_minor=amount)
            )
            voucher_post(
                actor=None,
                branch=head_office,
                kind=voucher.kind,
                value_date=day,
                narration=voucher.narration.get(language, voucher.narration["en"]),
                lines=[line],
                idempotency_key=f"demo-voucher:{voucher.key}:{day:%Y-%m}",
            )


def _months_before(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)
