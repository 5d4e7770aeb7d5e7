"""A realistic legacy workbook, generated: what a cooperative's old spreadsheets look like.

One sheet per entity (branches, groups, staff, members, nominees, shares, savings accounts,
loans, opening trial balance), headers in one language with a few of the aliases real exports
use, members with Bangla, Vietnamese and Thai names, dates as date cells and as typed text, amounts
as number cells and as grouped text (lakh for taka, dots for dong). The trial balance reconciles
with the valid records: its savings, interest, loan and share control accounts equal their totals.

Options: ``bad_rows`` injects rows that must fail (one kind of error each, listed in the summary
with their sheet and row), ``bijoy_share`` writes that share of Bangla names in Bijoy (SutonnyMJ).
Deterministic for a given seed.

    python -m imports.engine.sample OUT.xlsx --members 1000 [--country BD] [--bad-rows 20] [--bijoy 0.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from core_banking.members.identity import thai_check_digit
from imports.engine.templates import TEMPLATES
from imports.engine.values import currency_exponent

COUNTRY_CURRENCY = {"BD": "BDT", "VN": "VND", "TH": "THB"}
DEFAULT_SEED = 20261125
CUT_OVER = dt.date(2025, 12, 31)

# (Unicode, Bijoy) — every pair checked by the tests through bijoy_to_unicode.
BANGLA_WOMEN = (
    ("রহিমা", "iwngv"),
    ("ফাতেমা", "dv‡Zgv"),
    ("আমেনা", "Av‡gbv"),
    ("নাসরিন", "bvmwib"),
    ("শাহনাজ", "kvnbvR"),
    ("রোকেয়া", "‡iv‡Kqv"),
    ("সালমা", "mvjgv"),
    ("হাসিনা", "nvwmbv"),
    ("মরিয়ম", "gwiqg"),
    ("পারভীন", "cvifxb"),
    ("নাজমা", "bvRgv"),
)
BANGLA_WOMEN_FAMILY = (
    ("খাতুন", "LvZzb"),
    ("বেগম", "†eMg"),
    ("আক্তার", "Av³vi"),
    ("বিবি", "wewe"),
    ("সুলতানা", "myjZvbv"),
)
BANGLA_MEN = (
    ("করিম", "Kwig"),
    ("রহিম", "iwng"),
    ("জসিম", "Rwmg"),
    ("আলম", "Avjg"),
    ("হাসান", "nvmvb"),
    ("কামাল", "Kvgvj"),
    ("জামাল", "Rvgvj"),
    ("রফিক", "iwdK"),
    ("সেলিম", "‡mwjg"),
    ("হারুন", "nvi“b"),
)
BANGLA_MEN_FAMILY = (("উদ্দিন", "DwÏb"), ("আলী", "Avjx"), ("হোসেন", "†nv‡mb"), ("মিয়া", "wgqv"))
BANGLA_TITLE = ("মোঃ", "‡gvt")

VIETNAMESE_FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
)
VIETNAMESE_WOMEN = ("Hoa", "Lan", "Hương", "Mai", "Nhung", "Tuyết", "Thảo", "Trang", "Ánh", "Hạnh")
VIETNAMESE_MEN = ("An", "Bình", "Dũng", "Hùng", "Nam", "Sơn", "Đức", "Tuấn", "Quang", "Phúc")
THAI_WOMEN = ("สมศรี", "สมหญิง", "วิไล", "มาลี", "จันทร์เพ็ญ", "อรุณี", "บุษบา", "ประภา")
THAI_MEN = ("สมชาย", "ประเสริฐ", "บุญมี", "สมพร", "อรุณ", "ชัยวัฒน์", "สุชาติ", "วีระ")
THAI_FAMILY = ("ใจดี", "รักไทย", "ศรีสุข", "บุญมา", "แก้วมณี", "สุขสวัสดิ์", "ทองดี", "มีสุข")
RELATIONSHIPS = ("Daughter", "Son", "Husband", "Wife", "Mother", "Brother", "Sister")
PLACES = ("Savar", "Dhamrai", "Manikganj", "Tangail", "Gazipur", "Narsingdi", "Munshiganj", "Keraniganj")

# Aliases a real export uses instead of the template's own header, to exercise matching.
HEADER_VARIANTS = {
    ("members", "phone"): "Mobile",
    ("members", "national_id"): "NID",
    ("members", "group_code"): "Samity code",
    ("loans", "principal_outstanding"): "Outstanding",
}


@dataclass
class SampleSummary:
    members: int = 0
    savings_accounts: int = 0
    loans: int = 0
    bad_rows: list[tuple[str, int, str]] = field(default_factory=list)  # (sheet, row, expected code)
    savings_total: int = 0  # minor units, over the rows that stay valid
    savings_interest_total: int = 0
    loans_outstanding_total: int = 0
    shares_total: int = 0
    members_per_branch: dict[str, int] = field(default_factory=dict)
    currency: str = "BDT"


def _thai_id(rng: random.Random) -> str:
    first = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return first + str(thai_check_digit(first))


def _national_id(rng: random.Random, country: str, number: int) -> str:
    if country == "TH":
        return _thai_id(rng)
    if country == "VN":
        return f"0{rng.randint(1, 96):02d}{rng.randint(0, 3)}{rng.randint(60, 99):02d}{number:06d}"
    return f"{rng.randint(1, 9)}{number:09d}"  # Bangladesh smart card: 10 digits, unique per member


def _phone(rng: random.Random, country: str, number: int) -> str:
    tail = f"{number % 10_000_000:07d}"
    if country == "TH":
        return f"08{rng.randint(1, 9)}{tail}"
    if country == "VN":
        return f"09{rng.choice('0134')}{tail}"
    return f"01{rng.choice('3456789')}{rng.randint(1, 9)}{tail}"


class _Names:
    def __init__(self, rng: random.Random, bijoy_share: float) -> None:
        self.rng = rng
        self.bijoy_share = bijoy_share

    def person(self, index: int) -> tuple[str, str]:
        """(name, gender) rotating through Bangla, Vietnamese and Thai names."""
        rng = self.rng
        female = rng.random() < 0.7  # most microcredit members are women
        script = index % 3
        if script == 0:
            bijoy = rng.random() < self.bijoy_share
            pick = 1 if bijoy else 0
            if female:
                name = f"{rng.choice(BANGLA_WOMEN)[pick]} {rng.choice(BANGLA_WOMEN_FAMILY)[pick]}"
            else:
                given, family = rng.choice(BANGLA_MEN)[pick], rng.choice(BANGLA_MEN_FAMILY)[pick]
                name = f"{BANGLA_TITLE[pick]} {given} {family}"
        elif script == 1:
            middle = "Thị" if female else rng.choice(("Văn", "Hữu", "Minh", "Đức"))
            given = rng.choice(VIETNAMESE_WOMEN if female else VIETNAMESE_MEN)
            name = f"{rng.choice(VIETNAMESE_FAMILY)} {middle} {given}"
        else:
            name = f"{rng.choice(THAI_WOMEN if female else THAI_MEN)} {rng.choice(THAI_FAMILY)}"
        return name, "female" if female else "male"


def _grouped(minor: int, exponent: int, country: str) -> str:
    """An amount as a person types it: 1,00,000.50 (taka), 1.000.000 (dong), 100,000.50 (baht)."""
    whole, fraction_minor = divmod(minor, 10**exponent)
    fraction = f".{fraction_minor:0{exponent}d}" if exponent and fraction_minor else ""
    digits = str(whole)
    if country == "BD" and len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        pairs: list[str] = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        return ",".join([head, *pairs, tail]) + fraction
    if country == "VN":
        return f"{whole:,}".replace(",", ".") + fraction
    return f"{whole:,}" + fraction


def _date_text(day: dt.date, country: str) -> str:
    year = day.year + 543 if country == "TH" else day.year
    return f"{day.day:02d}/{day.month:02d}/{year}"


class _Sheet:
    def __init__(self, book: Any, key: str, language: str) -> None:
        template = TEMPLATES[key]
        self.sheet = book.create_sheet(title=key)
        self.keys = [item.key for item in template.fields]
        self.sheet.append(
            [HEADER_VARIANTS.get((key, item.key)) or item.header(language) for item in template.fields]
        )
        self.row = 1

    def append(self, values: dict[str, Any]) -> int:
        self.sheet.append([values.get(key) for key in self.keys])
        self.row += 1
        return self.row


def _renewed_maturity(opened: dt.date, term_days: int = 365 * 5) -> dt.date:
    """A five-year fixed deposit renewed at each maturity: its next maturity after the cut-over."""
    terms = (CUT_OVER - opened).days // term_days + 1
    return opened + dt.timedelta(days=term_days * terms)


def write_sample(  # noqa: PLR0912, PLR0915
    out: IO[bytes] | str | Path,
    *,
    members: int = 1000,
    savings: int | None = None,
    loans: int | None = None,
    country: str = "BD",
    language: str = "en",
    bad_rows: int = 0,
    bijoy_share: float = 0.0,
    seed: int = DEFAULT_SEED,
) -> SampleSummary:
    """Write the workbook; return what it holds (totals over valid rows, the injected bad rows)."""
    from openpyxl import Workbook

    rng = random.Random(seed)  # noqa: S311 -- sample data, reproducible on purpose
    currency = COUNTRY_CURRENCY[country]
    exponent = currency_exponent(currency)
    unit = 10**exponent
    # VND amounts run in thousands of dong where taka and baht run in units.
    scale = 1000 if country == "VN" else 1
    savings = members if savings is None else savings
    loans = members // 2 if loans is None else loans
    summary = SampleSummary(members=members, savings_accounts=savings, loans=loans, currency=currency)
    names = _Names(rng, bijoy_share)
    book = Workbook(write_only=True)

    # Bad rows are spread over members, savings and loans, one kind of error each.
    bad_kinds = {
        "members": ("date_invalid", "phone_invalid", "duplicate", "reference_unknown", "required"),
        "savings_accounts": ("savings_balance_negative", "amount_decimals", "date_format"),
        "loans": ("loan_outstanding_mismatch", "guarantor_is_borrower", "choice_invalid"),
    }
    bad_plan: dict[tuple[str, int], str] = {}
    sizes = {"members": members, "savings_accounts": savings, "loans": loans}
    kinds_in_order = [(entity, kind) for entity, kinds in bad_kinds.items() for kind in kinds]
    for number in range(bad_rows):
        entity, planned = kinds_in_order[number % len(kinds_in_order)]
        if sizes[entity] < 3:
            continue
        for _attempt in range(20):
            index = rng.randrange(1, sizes[entity])  # never the first row: duplicates refer back to it
            if (entity, index) not in bad_plan:
                bad_plan[(entity, index)] = planned
                break

    # Branches
    branch_count = max(2, min(50, members // 2000 + 1))
    branch_codes = ["HO", *(f"B{number:02d}" for number in range(1, branch_count))]
    sheet = _Sheet(book, "branches", language)
    for number, code in enumerate(branch_codes):
        sheet.append(
            {
                "branch_code": code,
                "name": "Head office" if code == "HO" else f"{PLACES[number % len(PLACES)]} {number}",
                "is_head_office": "yes" if code == "HO" else "no",
                "region": "Dhaka" if country == "BD" else "",
                "address": "",
                "opened_on": dt.datetime(2005 + number % 15, 1 + number % 12, 1),
            }
        )

    # Staff: one manager per branch, a field officer per ten groups.
    group_count = max(1, members // 25)
    officers = [f"officer{number:03d}" for number in range(max(1, group_count // 10))]
    sheet = _Sheet(book, "staff", language)
    for number, code in enumerate(branch_codes):
        sheet.append(
            {
                "username": f"manager{number:02d}",
                "full_name": f"Manager {code}",
                "email": f"manager{number:02d}@example.org",
                "branch_code": code,
                "roles": "branch_manager, approver",
                "all_branches": "yes" if code == "HO" else "no",
            }
        )
    for number, username in enumerate(officers):
        sheet.append(
            {
                "username": username,
                "full_name": f"Field officer {number}",
                "email": f"{username}@example.org",
                "branch_code": branch_codes[number % branch_count],
                "roles": "field_officer",
            }
        )

    # Groups
    weekdays = ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday")
    group_codes = [f"G{number:05d}" for number in range(group_count)]
    group_branch = {code: branch_codes[number % branch_count] for number, code in enumerate(group_codes)}
    sheet = _Sheet(book, "groups", language)
    for number, code in enumerate(group_codes):
        sheet.append(
            {
                "group_code": code,
                "branch_code": group_branch[code],
                "name": f"Group {number + 1}",
                "meeting_day": weekdays[number % len(weekdays)],
                "field_officer_username": officers[number // 10 % len(officers)],
            }
        )

    # Members
    member_numbers = [f"M{number:07d}" for number in range(1, members + 1)]
    member_branch: dict[str, str] = {}
    valid_members: set[str] = set()
    sheet = _Sheet(book, "members", language)
    per_branch: dict[str, int] = {}
    for index, member_no in enumerate(member_numbers):
        group = group_codes[index // 25 % group_count]
        branch = group_branch[group]
        name, gender = names.person(index)
        joined = CUT_OVER - dt.timedelta(days=rng.randint(30, 365 * 15))
        born = joined - dt.timedelta(days=rng.randint(365 * 19, 365 * 60))
        row_values: dict[str, Any] = {
            "member_no": member_no,
            "legacy_id": str(100000 + index),
            "branch_code": branch,
            "group_code": group,
            "full_name": name,
            "guardian_name": "",
            "gender": gender,
            "date_of_birth": _date_text(born, country),
            "national_id": _national_id(rng, country, index + 1),
            "phone": _phone(rng, country, index + 1),
            "address": f"Village {index % 300}",
            "join_date": dt.datetime(joined.year, joined.month, joined.day),
            "status": "active",
        }
        kind = bad_plan.get(("members", index))
        if kind == "date_invalid":
            row_values["join_date"] = "31/02/2020"
        elif kind == "phone_invalid":
            row_values["phone"] = "12345"
        elif kind == "duplicate":
            row_values["member_no"] = member_numbers[0]
        elif kind == "reference_unknown":
            row_values["branch_code"] = "NOPE"
        elif kind == "required":
            row_values["full_name"] = ""
        row = sheet.append(row_values)
        if kind is not None:
            summary.bad_rows.append(("members", row, kind))
        if kind in (None, "reference_unknown"):
            # A reference error is found after the file is read: the row still counts per branch.
            valid_members.add(member_no)
            per_branch[row_values["branch_code"]] = per_branch.get(row_values["branch_code"], 0) + 1
        member_branch[member_no] = branch
    summary.members_per_branch = per_branch
    # Dependent rows refer only to members whose row is valid, so their only errors are their own.
    usable = [member_no for member_no in member_numbers if member_no in valid_members]

    # Nominees: most members name one, some two.
    sheet = _Sheet(book, "nominees", language)
    for index, member_no in enumerate(usable):
        if index % 5 == 4:
            continue
        if index % 7 == 0:
            for share in ("60", "40"):
                sheet.append(
                    {
                        "member_no": member_no,
                        "name": names.person(index + 1)[0],
                        "relationship": rng.choice(RELATIONSHIPS),
                        "share_percent": share,
                    }
                )
        else:
            sheet.append(
                {
                    "member_no": member_no,
                    "name": names.person(index + 2)[0],
                    "relationship": rng.choice(RELATIONSHIPS),
                    "share_percent": "100",
                }
            )

    # Shares: every member; number cells.
    sheet = _Sheet(book, "shares", language)
    for member_no in usable:
        count = rng.randint(1, 50)
        balance = count * 100 * scale * unit
        sheet.append({"member_no": member_no, "share_count": count, "share_balance": balance // unit})
        summary.shares_total += balance

    # Savings accounts: number cells (with decimals where the currency has them), text dates.
    products = ("CMP", "VOL", "FDR")  # the demo's products: a new workspace's two, and a fixed deposit
    kinds = ("compulsory", "voluntary", "fixed")
    sheet = _Sheet(book, "savings_accounts", language)
    for index in range(savings):
        member_no = usable[index % len(usable)]
        product = index % 3
        balance = rng.randint(0, 50_000) * scale * unit + (rng.randint(0, unit - 1) if unit > 1 else 0)
        interest = rng.randint(0, 500) * scale * unit // 10
        opened = CUT_OVER - dt.timedelta(days=rng.randint(30, 365 * 10))
        row_values = {
            "account_no": f"S{index + 1:07d}",
            "member_no": member_no,
            "product_code": products[product],
            "kind": kinds[product],
            "opened_on": _date_text(opened, country),
            "balance": float(Decimal(balance).scaleb(-exponent)) if exponent else balance,
            "accrued_interest": _grouped(interest, exponent, country),
            "interest_rate": "6.5",
            "instalment_amount": None,
            "maturity_date": _date_text(_renewed_maturity(opened), country) if product == 2 else "",
            "status": "active",
        }
        kind = bad_plan.get(("savings_accounts", index))
        if kind == "savings_balance_negative":
            row_values["balance"] = -(balance // unit or 1)
        elif kind == "amount_decimals":
            row_values["balance"] = "100.1234"
        elif kind == "date_format":
            row_values["opened_on"] = "sometime in 2019"
        row = sheet.append(row_values)
        if kind is not None:
            summary.bad_rows.append(("savings_accounts", row, kind))
        else:
            summary.savings_total += balance
            summary.savings_interest_total += interest

    # Loans: grouped text amounts (lakh for taka), date cells.
    frequencies = ("weekly", "monthly", "fortnightly")
    sheet = _Sheet(book, "loans", language)
    for index in range(loans):
        member_no = usable[(index * 2) % len(usable)]
        disbursed = rng.randint(10, 200) * 1000 * scale * unit
        paid = disbursed * rng.randint(0, 9) // 10 // unit * unit
        outstanding = disbursed - paid
        frequency = frequencies[index % 3]
        instalments = {"weekly": 46, "monthly": 12, "fortnightly": 24}[frequency]
        disbursed_on = CUT_OVER - dt.timedelta(days=rng.randint(15, 360))
        interest_paid = paid * 12 // 100
        in_arrears = index % 9 == 0 and outstanding > 0
        row_values = {
            "loan_no": f"L{index + 1:07d}",
            "member_no": member_no,
            "product_code": "GEN",
            "disbursed_on": dt.datetime(disbursed_on.year, disbursed_on.month, disbursed_on.day),
            "disbursed_amount": _grouped(disbursed, exponent, country),
            "interest_rate": "12",
            "interest_method": "flat" if index % 2 else "declining",
            "frequency": frequency,
            "instalments": instalments,
            "first_due_on": _date_text(
                disbursed_on + dt.timedelta(days=14 if frequency != "monthly" else 30), country
            ),
            "principal_paid": _grouped(paid, exponent, country),
            "interest_paid": _grouped(interest_paid, exponent, country),
            "principal_outstanding": _grouped(outstanding, exponent, country),
            "interest_outstanding": _grouped(outstanding * 6 // 100 // unit * unit, exponent, country),
            "arrears": _grouped(outstanding // 10 // unit * unit, exponent, country) if in_arrears else "",
            "overdue_since": _date_text(CUT_OVER - dt.timedelta(days=45), country) if in_arrears else "",
            "guarantors": usable[(index * 2 + 1) % len(usable)] if index % 4 == 0 else "",
        }
        kind = bad_plan.get(("loans", index))
        if kind == "loan_outstanding_mismatch":
            row_values["principal_outstanding"] = _grouped(outstanding + unit * scale, exponent, country)
        elif kind == "guarantor_is_borrower":
            row_values["guarantors"] = member_no
        elif kind == "choice_invalid":
            row_values["frequency"] = "every full moon"
        row = sheet.append(row_values)
        if kind is not None:
            summary.bad_rows.append(("loans", row, kind))
        else:
            summary.loans_outstanding_total += outstanding

    # Opening trial balance that reconciles with the valid records.
    sheet = _Sheet(book, "trial_balance", language)
    reserve = summary.loans_outstanding_total // 20 // unit * unit
    cash = (
        summary.savings_total
        + summary.savings_interest_total
        + summary.shares_total
        + reserve
        - summary.loans_outstanding_total
    )
    borrowing = 0
    if cash < 0:
        borrowing = -cash + 100_000 * unit
        cash = 100_000 * unit
    lines = [
        ("1010", "Cash in hand", cash, 0, "cash"),
        ("1300", "Loans to members", summary.loans_outstanding_total, 0, "loans"),
        ("2100", "Members' savings", 0, summary.savings_total, "savings"),
        ("2150", "Interest payable on savings", 0, summary.savings_interest_total, "savings_interest"),
        ("3100", "Share capital", 0, summary.shares_total, "shares"),
        ("3300", "Reserve fund", 0, reserve, ""),
    ]
    if borrowing:
        lines.append(("2500", "Borrowing from bank", 0, borrowing, ""))
    for code, name, debit, credit, control in lines:
        sheet.append(
            {
                "account_code": code,
                "account_name": name,
                "debit": _grouped(debit, exponent, country) if debit else "",
                "credit": _grouped(credit, exponent, country) if credit else "",
                "control_of": control,
            }
        )

    if isinstance(out, str | Path):
        book.save(str(out))
    else:
        book.save(out)
    return summary


def sheets_in_order() -> Iterator[str]:
    """The order a dry run reads the sample's sheets in: referenced entities first."""
    yield from (
        "branches",
        "staff",
        "groups",
        "members",
        "nominees",
        "shares",
        "savings_accounts",
        "loans",
        "trial_balance",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a generated legacy workbook for import tests and demos."
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument(
        "--savings", type=int, default=None, help="savings accounts (default: one per member)"
    )
    parser.add_argument("--loans", type=int, default=None, help="loans (default: half the members)")
    parser.add_argument("--country", choices=sorted(COUNTRY_CURRENCY), default="BD")
    parser.add_argument("--language", choices=("en", "bn", "vi", "th"), default="en")
    parser.add_argument("--bad-rows", type=int, default=0)
    parser.add_argument("--bijoy", type=float, default=0.0, help="share of Bangla names written in Bijoy")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    summary = write_sample(
        args.out,
        members=args.members,
        savings=args.savings,
        loans=args.loans,
        country=args.country,
        language=args.language,
        bad_rows=args.bad_rows,
        bijoy_share=args.bijoy,
        seed=args.seed,
    )
    print(  # noqa: T201
        f"{args.out}: {summary.members} members, {summary.savings_accounts} savings accounts, "
        f"{summary.loans} loans, {len(summary.bad_rows)} bad rows ({summary.currency})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
