"""The words of every SMS: the shipped default per kind and language, the placeholders each kind
offers, how a template is checked, and how it is filled from an outbox row's context.

A template is a line of text with placeholders, ``{{ amount }}``, from a fixed list per kind
(``PLACEHOLDERS``, described in ``PLACEHOLDER_HELP``). Each placeholder is a plain string already
written for the message's language: money with its currency (Bangla grouping, 1,25,000.00৳; the
dong without decimals; ISO codes in English so that English stays GSM-7), dates (Thai in the
Buddhist era), and native digits where the cooperative chose them. Conditions and the filters in
``FILTERS`` are allowed; nothing else. Rendering uses Jinja's sandbox with no globals, no tests and
a context of strings, so a template reaches nothing but those strings.

The defaults are written in the words the cooperatives' own systems use (সঞ্চয়, কিস্তি, ঋণ, স্থিতি;
tiết kiệm, số dư, dư nợ, giải ngân; เงินฝาก, งวด, เงินกู้, ค้างชำระ) and kept short: the Bangla, Thai
and Vietnamese ones fit one UCS-2 segment (70 code units) with typical amounts, the English ones one
GSM-7 segment (tests/notifications/test_texts_defaults.py renders each and counts).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, get_currency_precision
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontend.formatting import format_local_date, format_money, to_native_digits
from frontend.text_sandbox import TextSandbox
from notifications.models import MessageKind
from notifications.sms_text import plain_spaces, unaccent_vietnamese

LANGUAGES = ("bn", "vi", "th", "en")
MAX_TEMPLATE = 480  # three GSM-7 parts; a cooperative that wants longer texts pays for them
FILTERS = ("upper", "lower", "capitalize", "trim", "default")

# How dates are written in an SMS: short, and in the reader's order (Thai years in the Buddhist era).
DATE_PATTERNS = {"bn": "d/M/yy", "vi": "d/M/yy", "th": "d/M/yyyy", "en": "d MMM yyyy"}

_COMMON = ("cooperative", "member_name", "member_number")
_SAVINGS = ("amount", "balance", "account", "account_short", "date")
_INSTALMENT = ("amount", "loan", "date", "outstanding", "next_due_date", "next_due_amount")
_REMINDER = ("loan", "due_date", "due_amount", "installment_number", "days")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    MessageKind.SAVINGS_DEPOSIT: (*_COMMON, *_SAVINGS),
    MessageKind.SAVINGS_WITHDRAWAL: (*_COMMON, *_SAVINGS),
    # A transfer writes one message per account: the conditions say which side this one is.
    MessageKind.SAVINGS_TRANSFER: (*_COMMON, *_SAVINGS, "transferred_out", "transferred_in"),
    MessageKind.SAVINGS_INTEREST: (*_COMMON, *_SAVINGS),
    MessageKind.INSTALMENT_RECEIVED: (*_COMMON, *_INSTALMENT),
    MessageKind.LOAN_DISBURSED: (
        *_COMMON,
        "amount",
        "net_amount",
        "loan",
        "date",
        "installments",
        "first_due_date",
        "first_installment",
    ),
    MessageKind.SHARE_PURCHASE: (*_COMMON, "amount", "shares", "shares_held", "balance", "date"),
    MessageKind.SHARE_WITHDRAWAL: (*_COMMON, "amount", "shares", "shares_held", "balance", "date"),
    MessageKind.CORRECTION: (
        *_COMMON,
        "account",
        "account_short",
        "original_amount",
        "amount",
        "balance",
        "date",
    ),
    MessageKind.UPCOMING_REMINDER: (*_COMMON, *_REMINDER),
    MessageKind.OVERDUE_REMINDER: (*_COMMON, *_REMINDER),
    MessageKind.ONE_TIME_CODE: (*_COMMON, "code"),
    # The answer to a member who texted BAL: the savings total and, when a loan is running, the
    # next instalment still owed (empty otherwise: the default texts leave that part out).
    MessageKind.BALANCE_REPLY: (*_COMMON, "balance", "next_due_amount", "next_due_date"),
}
KINDS = tuple(PLACEHOLDERS)

PLACEHOLDER_HELP: dict[str, Promise] = {
    "cooperative": _("the cooperative's name"),
    "member_name": _("the member's name"),
    "member_number": _("the member's number"),
    "amount": _("the amount of the transaction, with the currency"),
    "balance": _("the balance after it"),
    "account": _("the account number"),
    "account_short": _("the account number without the member number (e.g. GS-1)"),
    "date": _("the date of the transaction"),
    "loan": _("the loan number"),
    "outstanding": _("what is still owed on the loan after this payment"),
    "next_due_date": _("the next due date"),
    "next_due_amount": _("the amount due on the next due date"),
    "net_amount": _("the amount paid out after deducted fees"),
    "installments": _("the number of instalments"),
    "first_due_date": _("the first due date"),
    "first_installment": _("the first instalment"),
    "shares": _("the number of shares bought or withdrawn"),
    "shares_held": _("the number of shares held after it"),
    "original_amount": _("the amount as first recorded"),
    "due_date": _("the instalment's due date"),
    "due_amount": _("what is due (or overdue) on the instalment"),
    "installment_number": _("the instalment's number in the schedule"),
    "days": _("days until the due date, or days overdue"),
    "code": _("the one-time code"),
    "transferred_out": _("a condition: the money left this account (use with if)"),
    "transferred_in": _("a condition: the money came into this account (use with if)"),
}

# Context keys (as the services write them) → placeholders, by how they are written.
_MONEY = {
    "amount_minor": "amount",
    "balance_minor": "balance",
    "outstanding_minor": "outstanding",
    "next_due_minor": "next_due_amount",
    "net_minor": "net_amount",
    "first_installment_minor": "first_installment",
    "original_minor": "original_amount",
    "due_minor": "due_amount",
}
_DATES = {
    "value_date": "date",
    "next_due_date": "next_due_date",
    "first_due_date": "first_due_date",
    "due_date": "due_date",
}
_NUMBERS = {
    "shares": "shares",
    "shares_held": "shares_held",
    "installments": "installments",
    "installment_number": "installment_number",
    "days": "days",
}
_TEXTS = {"account": "account", "loan": "loan", "code": "code", "member": "member_number"}

K = MessageKind
DEFAULT_TEMPLATES: dict[tuple[str, str], str] = {
    (
        K.SAVINGS_DEPOSIT,
        "bn",
    ): "সঞ্চয় জমা {{ amount }}, হিসাব {{ account_short }}, {{ date }}। স্থিতি {{ balance }}",
    (
        K.SAVINGS_DEPOSIT,
        "vi",
    ): "Gửi tiết kiệm {{ amount }} TK {{ account_short }} ngày {{ date }}. Số dư {{ balance }}",
    (K.SAVINGS_DEPOSIT, "th"): "ฝากเงิน {{ amount }} บัญชี {{ account_short }} {{ date }} คงเหลือ {{ balance }}",
    (K.SAVINGS_DEPOSIT, "en"): (
        "Savings deposit of {{ amount }} to account {{ account }} on {{ date }}. Balance: {{ balance }}."
    ),
    (K.SAVINGS_WITHDRAWAL, "bn"): (
        "সঞ্চয় উত্তোলন {{ amount }}, হিসাব {{ account_short }}, {{ date }}। স্থিতি {{ balance }}"
    ),
    (
        K.SAVINGS_WITHDRAWAL,
        "vi",
    ): "Rút tiết kiệm {{ amount }} TK {{ account_short }} ngày {{ date }}. Số dư {{ balance }}",
    (
        K.SAVINGS_WITHDRAWAL,
        "th",
    ): "ถอนเงิน {{ amount }} บัญชี {{ account_short }} {{ date }} คงเหลือ {{ balance }}",
    (K.SAVINGS_WITHDRAWAL, "en"): (
        "Savings withdrawal of {{ amount }} from account {{ account }} on {{ date }}. Balance: {{ balance }}."
    ),
    # Rows written before transfers said their side have neither condition: the neutral words.
    (K.SAVINGS_TRANSFER, "bn"): (
        "স্থানান্তর{% if transferred_out %} প্রেরণ{% elif transferred_in %} জমা{% endif %} {{ amount }}, "
        "হিসাব {{ account_short }}, {{ date }}। স্থিতি {{ balance }}"
    ),
    (K.SAVINGS_TRANSFER, "vi"): (
        "{% if transferred_out %}Chuyển đi{% elif transferred_in %}Chuyển đến"
        "{% else %}Chuyển khoản{% endif %} {{ amount }} TK {{ account_short }} ngày {{ date }}. "
        "Số dư {{ balance }}"
    ),
    (K.SAVINGS_TRANSFER, "th"): (
        "โอนเงิน{% if transferred_out %}ออก{% elif transferred_in %}เข้า{% endif %} {{ amount }} "
        "บัญชี {{ account_short }} {{ date }} คงเหลือ {{ balance }}"
    ),
    (K.SAVINGS_TRANSFER, "en"): (
        "Transfer of {{ amount }} {% if transferred_out %}sent from{% elif transferred_in %}received on"
        "{% else %}on{% endif %} savings account {{ account }} on {{ date }}. Balance: {{ balance }}."
    ),
    (K.SAVINGS_INTEREST, "bn"): "সঞ্চয়ে মুনাফা জমা {{ amount }}, হিসাব {{ account_short }}। স্থিতি {{ balance }}",
    (
        K.SAVINGS_INTEREST,
        "vi",
    ): "Tiền lãi {{ amount }} vào TK {{ account_short }} ngày {{ date }}. Số dư {{ balance }}",
    (K.SAVINGS_INTEREST, "th"): "ดอกเบี้ย {{ amount }} บัญชี {{ account_short }} {{ date }} คงเหลือ {{ balance }}",
    (K.SAVINGS_INTEREST, "en"): (
        "Interest of {{ amount }} paid to savings account {{ account }} on {{ date }}. "
        "Balance: {{ balance }}."
    ),
    (K.INSTALMENT_RECEIVED, "bn"): "কিস্তি জমা {{ amount }}, ঋণ {{ loan }}, {{ date }}। বাকি {{ outstanding }}",
    (K.INSTALMENT_RECEIVED, "vi"): "Đã thu nợ {{ amount }} khoản vay {{ loan }}. Dư nợ {{ outstanding }}",
    (K.INSTALMENT_RECEIVED, "th"): "รับชำระ {{ amount }} เงินกู้ {{ loan }} {{ date }} คงค้าง {{ outstanding }}",
    (K.INSTALMENT_RECEIVED, "en"): (
        "Instalment of {{ amount }} received for loan {{ loan }} on {{ date }}. "
        "Still owed: {{ outstanding }}."
    ),
    (K.LOAN_DISBURSED, "bn"): (
        "ঋণ {{ loan }} বিতরণ {{ amount }}। প্রথম কিস্তি {{ first_installment }}, {{ first_due_date }}"
    ),
    (
        K.LOAN_DISBURSED,
        "vi",
    ): "Giải ngân {{ loan }} {{ amount }}. Kỳ đầu {{ first_due_date }}: {{ first_installment }}",
    (
        K.LOAN_DISBURSED,
        "th",
    ): "จ่ายเงินกู้ {{ loan }} {{ amount }} งวดแรก {{ first_installment }} {{ first_due_date }}",
    (K.LOAN_DISBURSED, "en"): (
        "Loan {{ loan }} of {{ amount }} paid out on {{ date }}. First instalment {{ first_installment }} "
        "due {{ first_due_date }}."
    ),
    (
        K.SHARE_PURCHASE,
        "bn",
    ): "শেয়ার ক্রয় {{ shares }}টি, {{ amount }}, {{ date }}। মোট শেয়ার {{ shares_held }}টি",
    (
        K.SHARE_PURCHASE,
        "vi",
    ): "Mua {{ shares }} cổ phần {{ amount }} ngày {{ date }}. Tổng {{ shares_held }} cổ phần",
    (K.SHARE_PURCHASE, "th"): "ซื้อหุ้น {{ shares }} หุ้น {{ amount }} {{ date }} รวม {{ shares_held }} หุ้น",
    (K.SHARE_PURCHASE, "en"): (
        "Purchase of {{ shares }} shares for {{ amount }} on {{ date }}. You now hold {{ shares_held }} "
        "shares ({{ balance }})."
    ),
    (
        K.SHARE_WITHDRAWAL,
        "bn",
    ): "শেয়ার ফেরত {{ shares }}টি, {{ amount }}, {{ date }}। মোট শেয়ার {{ shares_held }}টি",
    (
        K.SHARE_WITHDRAWAL,
        "vi",
    ): "Rút {{ shares }} cổ phần {{ amount }} ngày {{ date }}. Còn {{ shares_held }} cổ phần",
    (K.SHARE_WITHDRAWAL, "th"): "ถอนหุ้น {{ shares }} หุ้น {{ amount }} {{ date }} คงเหลือ {{ shares_held }} หุ้น",
    (K.SHARE_WITHDRAWAL, "en"): (
        "Withdrawal of {{ shares }} shares for {{ amount }} on {{ date }}. You now hold {{ shares_held }} "
        "shares ({{ balance }})."
    ),
    (
        K.CORRECTION,
        "bn",
    ): "সংশোধন: হিসাব {{ account_short }}, {{ amount }} (আগে {{ original_amount }})। স্থিতি {{ balance }}",
    (
        K.CORRECTION,
        "vi",
    ): "Sửa GD TK {{ account_short }}: {{ original_amount }} thành {{ amount }}. Số dư {{ balance }}",
    (
        K.CORRECTION,
        "th",
    ): "แก้ไขรายการ บัญชี {{ account_short }} {{ original_amount }} เป็น {{ amount }} คงเหลือ {{ balance }}",
    (K.CORRECTION, "en"): (
        "Correction on account {{ account }}: {{ original_amount }} is now {{ amount }} ({{ date }}). "
        "Balance: {{ balance }}."
    ),
    (K.UPCOMING_REMINDER, "bn"): "ঋণ {{ loan }} এর কিস্তি {{ due_amount }} পরিশোধের তারিখ {{ due_date }}",
    (K.UPCOMING_REMINDER, "vi"): "Khoản vay {{ loan }} đến hạn trả {{ due_amount }} ngày {{ due_date }}",
    (
        K.UPCOMING_REMINDER,
        "th",
    ): "เงินกู้ {{ loan }} งวดที่ {{ installment_number }} {{ due_amount }} ครบกำหนด {{ due_date }}",
    (K.UPCOMING_REMINDER, "en"): (
        "Reminder: instalment {{ installment_number }} of loan {{ loan }}, {{ due_amount }}, is due on "
        "{{ due_date }}."
    ),
    (K.OVERDUE_REMINDER, "bn"): "ঋণ {{ loan }} এর কিস্তি {{ due_amount }} বকেয়া, তারিখ ছিল {{ due_date }}",
    (K.OVERDUE_REMINDER, "vi"): "Vay {{ loan }} quá hạn {{ due_amount }} từ {{ due_date }}. Vui lòng trả sớm",
    (K.OVERDUE_REMINDER, "th"): "เงินกู้ {{ loan }} ค้างชำระ {{ due_amount }} ตั้งแต่ {{ due_date }}",
    (K.OVERDUE_REMINDER, "en"): (
        "Overdue: instalment {{ installment_number }} of loan {{ loan }}, {{ due_amount }}, was due on "
        "{{ due_date }}. Please pay soon."
    ),
    (K.ONE_TIME_CODE, "bn"): "আপনার কোড {{ code }}। কাউকে বলবেন না",
    (K.ONE_TIME_CODE, "vi"): "Mã xác nhận của bạn là {{ code }}. Không chia sẻ mã này",
    (K.ONE_TIME_CODE, "th"): "รหัสยืนยันของคุณคือ {{ code }} ห้ามบอกผู้อื่น",
    (K.ONE_TIME_CODE, "en"): "Your code is {{ code }}. Do not share it with anyone.",
    (K.BALANCE_REPLY, "bn"): (
        "সঞ্চয় স্থিতি {{ balance }}।{% if next_due_date %} পরবর্তী কিস্তি {{ next_due_amount }}, "
        "{{ next_due_date }}{% endif %}"
    ),
    (K.BALANCE_REPLY, "vi"): (
        "Số dư tiết kiệm {{ balance }}.{% if next_due_date %} Kỳ tới {{ next_due_date }}: "
        "{{ next_due_amount }}{% endif %}"
    ),
    (K.BALANCE_REPLY, "th"): (
        "เงินฝากคงเหลือ {{ balance }}{% if next_due_date %} งวดถัดไป {{ next_due_amount }} "
        "{{ next_due_date }}{% endif %}"
    ),
    (K.BALANCE_REPLY, "en"): (
        "Savings balance: {{ balance }}.{% if next_due_date %} Next instalment {{ next_due_amount }} "
        "due {{ next_due_date }}.{% endif %}"
    ),
}


def default_template(kind: str, language: str) -> str:
    """The shipped text of ``kind`` in ``language`` (English for a language not shipped)."""
    return DEFAULT_TEMPLATES.get((kind, language)) or DEFAULT_TEMPLATES[(kind, "en")]


# --- The sandbox -------------------------------------------------------------------------------------


# An SMS is plain text: nothing to escape, and escaping would show "&amp;" to the member.
_SANDBOX = TextSandbox(filters=FILTERS, autoescape=False)


def _placeholder_problems(kind: str, text: str) -> list[str]:
    return _SANDBOX.problems(
        text,
        placeholders=PLACEHOLDERS[kind],
        example="amount",
        unknown_message=gettext("Unknown placeholder: %(names)s. Use only those listed for this message."),
    )


def template_problems(kind: str, text: str) -> list[str]:
    """Why ``text`` cannot be the SMS of ``kind`` (empty when it can)."""
    if not text.strip():
        return [gettext("Write the message, or restore the default.")]
    if len(text) > MAX_TEMPLATE:
        return [
            gettext("At most %(limit)s characters; this has %(count)s.")
            % {"limit": MAX_TEMPLATE, "count": len(text)}
        ]
    return _placeholder_problems(kind, text)


def template_fill(kind: str, text: str, values: Mapping[str, str]) -> str:
    """``text`` with ``values`` in its placeholders, on one line; raises TemplateError if it fails."""
    known = {name: str(values.get(name, "")) for name in PLACEHOLDERS[kind]}
    body = _SANDBOX.fill(text, known)
    # An SMS is one paragraph; line breaks a cooperative types stay, runs of spaces do not.
    return "\n".join(" ".join(line.split()) for line in body.strip().splitlines())


# --- Values ------------------------------------------------------------------------------------------------


def sms_money(minor_units: int, currency: str, language: str, *, native_digits: bool) -> str:
    """Money as an SMS in ``language`` writes it. English uses the ISO code ("BDT 5,000.00"): the
    taka, dong and baht signs are not GSM-7, and one would make the whole message UCS-2."""
    if language == "en" or language not in LANGUAGES:
        exponent = get_currency_precision(currency)
        amount = Decimal(int(minor_units)).scaleb(-exponent)
        return format_currency(amount, currency, format="¤¤ #,##0.00", locale="en", currency_digits=True)
    return plain_spaces(format_money(int(minor_units), currency, language, native_digits=native_digits))


def sms_date(value: dt.date, language: str, *, native_digits: bool) -> str:
    pattern = DATE_PATTERNS.get(language, DATE_PATTERNS["en"])
    return plain_spaces(format_local_date(value, language, native_digits=native_digits, style=pattern))


def _short_account(number: str, member_number: str) -> str:
    if member_number and number.startswith(member_number + "-"):
        return number[len(member_number) + 1 :]
    return number


def message_values(
    context: Mapping[str, Any],
    language: str,
    *,
    native_digits: bool = False,
    cooperative: str = "",
    member_name: str = "",
    member_number: str = "",
) -> dict[str, str]:
    """The placeholders' strings for an outbox row's ``context`` in ``language``."""
    currency = str(context.get("currency") or "")
    values: dict[str, str] = {
        "cooperative": cooperative,
        "member_name": member_name,
        "member_number": member_number,
    }
    for key, name in _TEXTS.items():
        if context.get(key) not in (None, ""):
            values[name] = str(context[key])
    for key, name in _MONEY.items():
        if context.get(key) is not None and currency:
            values[name] = sms_money(int(context[key]), currency, language, native_digits=native_digits)
    for key, name in _DATES.items():
        if context.get(key):
            day = dt.date.fromisoformat(str(context[key]))
            values[name] = sms_date(day, language, native_digits=native_digits)
    for key, name in _NUMBERS.items():
        if context.get(key) is not None:
            number = str(context[key])
            values[name] = to_native_digits(number, language) if native_digits else number
    # Conditions for the template: a non-empty string is true, an empty one false.
    direction = context.get("direction")
    values["transferred_out"] = "yes" if direction == "out" else ""
    values["transferred_in"] = "yes" if direction == "in" else ""
    if "account" in values:
        account_owner = values.get("member_number") or ""
        values["account_short"] = _short_account(values["account"], account_owner)
        if values["account_short"] == values["account"]:
            # Savings numbers are "<member number>-<product>-<sequence>": the member knows the rest.
            parts = values["account"].rsplit("-", 2)
            values["account_short"] = "-".join(parts[-2:]) if len(parts) == 3 else values["account"]
    return values


def body_finish(body: str, language: str, *, unaccented_vietnamese: bool) -> str:
    """The last step before sending: composed characters, ordinary spaces, and Vietnamese unaccented
    where chosen. Some keyboards type Vietnamese decomposed ("ế" as e + two marks: three UTF-16
    units); composed, it is one, and the message keeps its segment."""
    body = plain_spaces(unicodedata.normalize("NFC", body))
    if language == "vi" and unaccented_vietnamese:
        body = unaccent_vietnamese(body)
    return body


# --- The editor's sample and cost ------------------------------------------------------------------------

# Typical amounts in whole units of the currency, for the editor's sample message.
_SAMPLE_AMOUNTS: dict[str, dict[str, int]] = {
    "BDT": {"amount": 5_000, "balance": 125_000, "outstanding": 45_000, "instalment": 1_250, "loan": 50_000},
    "VND": {
        "amount": 2_000_000,
        "balance": 15_000_000,
        "outstanding": 9_000_000,
        "instalment": 1_850_000,
        "loan": 20_000_000,
    },
    "THB": {"amount": 1_500, "balance": 25_000, "outstanding": 15_000, "instalment": 2_500, "loan": 30_000},
}


def sample_context(kind: str, currency: str, *, today: dt.date) -> dict[str, Any]:
    """A made-up outbox context for ``kind``, as the posting services write it, for the preview."""
    whole = _SAMPLE_AMOUNTS.get(currency, _SAMPLE_AMOUNTS["BDT"])
    scale = 10 ** get_currency_precision(currency) if currency else 1
    a = {name: value * scale for name, value in whole.items()}
    due = today + dt.timedelta(days=7)
    savings = {
        "amount_minor": a["amount"],
        "balance_minor": a["balance"],
        "currency": currency,
        "account": "BR1-000123-GS-1",
        "value_date": today.isoformat(),
    }
    reminder = {
        "loan": "BR1-L-000045",
        "currency": currency,
        "due_date": due.isoformat(),
        "due_minor": a["instalment"],
        "installment_number": 3,
        "days": 2,
    }
    loan = {
        "amount_minor": a["instalment"],
        "currency": currency,
        "loan": "BR1-L-000045",
        "value_date": today.isoformat(),
    }
    samples: dict[str, dict[str, Any]] = {
        K.SAVINGS_DEPOSIT: savings,
        K.SAVINGS_WITHDRAWAL: savings,
        K.SAVINGS_TRANSFER: {**savings, "direction": "out"},
        K.SAVINGS_INTEREST: {**savings, "amount_minor": a["amount"] // 10},
        K.INSTALMENT_RECEIVED: {
            **loan,
            "outstanding_minor": a["outstanding"],
            "next_due_date": due.isoformat(),
            "next_due_minor": a["instalment"],
        },
        K.LOAN_DISBURSED: {
            **loan,
            "amount_minor": a["loan"],
            "net_minor": a["loan"],
            "installments": 46,
            "first_due_date": due.isoformat(),
            "first_installment_minor": a["instalment"],
        },
        K.SHARE_PURCHASE: {
            "amount_minor": a["amount"],
            "shares": 10,
            "shares_held": 25,
            "balance_minor": a["amount"] * 25 // 10,
            "currency": currency,
            "member": "BR1-000123",
            "value_date": today.isoformat(),
        },
        K.SHARE_WITHDRAWAL: {
            "amount_minor": a["amount"],
            "shares": 10,
            "shares_held": 15,
            "balance_minor": a["amount"] * 15 // 10,
            "currency": currency,
            "member": "BR1-000123",
            "value_date": today.isoformat(),
        },
        K.CORRECTION: {**savings, "original_minor": a["amount"] * 2},
        K.UPCOMING_REMINDER: reminder,
        K.OVERDUE_REMINDER: {**reminder, "due_date": (today - dt.timedelta(days=1)).isoformat(), "days": 1},
        K.ONE_TIME_CODE: {"code": "482913"},
        K.BALANCE_REPLY: {
            "balance_minor": a["balance"],
            "currency": currency,
            "next_due_date": due.isoformat(),
            "next_due_minor": a["instalment"],
        },
    }
    return samples[kind]


def segment_price(currency: str) -> tuple[Decimal, str]:
    """The price of one SMS segment and its currency: the workspace's own when configured, else the
    fallback currency's (``settings.NOTIFICATIONS_SMS_SEGMENT_PRICES``)."""
    from django.conf import settings

    prices: dict[str, str] = settings.NOTIFICATIONS_SMS_SEGMENT_PRICES
    if currency in prices:
        return Decimal(prices[currency]), currency
    fallback = settings.NOTIFICATIONS_SMS_PRICE_FALLBACK_CURRENCY
    return Decimal(prices.get(fallback, "0")), fallback


def sms_cost_text(segments: int, currency: str, language: str, *, native_digits: bool = False) -> str:
    """What ``segments`` segments cost, written for ``language`` (all the price's decimals kept)."""
    from frontend.formatting import babel_locale

    price, priced_in = segment_price(currency)
    total = price * segments
    text = format_currency(
        total, priced_in, locale=babel_locale(language), currency_digits=True, decimal_quantization=False
    )
    return plain_spaces(to_native_digits(text, language) if native_digits else text)
