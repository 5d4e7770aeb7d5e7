"""Every shipped SMS template rendered with realistic amounts: the exact text, its encoding and its
number of segments. The Bangla, Thai and Vietnamese defaults fit one UCS-2 segment (70 UTF-16 code
units), the English ones one GSM-7 segment, unaccented Vietnamese too."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from notifications import texts
from notifications.models import MessageKind
from notifications.rendering import WorkspaceTexts, text_render
from notifications.sms_text import sms_measure

K = MessageKind
CURRENCY = {"bn": "BDT", "vi": "VND", "th": "THB", "en": "BDT"}
# Typical amounts, in whole currency units (VND has no minor unit).
AMOUNTS = {
    "BDT": {
        "amount": 5_000,
        "balance": 125_000,
        "outstanding": 45_000,
        "instalment": 1_250,
        "loan": 50_000,
        "interest": 500,
    },
    "VND": {
        "amount": 2_000_000,
        "balance": 15_000_000,
        "outstanding": 9_000_000,
        "instalment": 1_850_000,
        "loan": 20_000_000,
        "interest": 200_000,
    },
    "THB": {
        "amount": 1_500,
        "balance": 25_000,
        "outstanding": 15_000,
        "instalment": 2_500,
        "loan": 30_000,
        "interest": 150,
    },
}
MINOR = {"BDT": 100, "VND": 1, "THB": 100}


def realistic_context(kind: str, currency: str) -> dict[str, Any]:
    """What the posting services write to the outbox for ``kind`` (see their outbox_enqueue calls)."""
    a = {name: value * MINOR[currency] for name, value in AMOUNTS[currency].items()}
    savings = {
        "amount_minor": a["amount"],
        "balance_minor": a["balance"],
        "currency": currency,
        "account": "DHK-000123-GS-1",
        "value_date": "2026-12-05",
    }
    reminder = {
        "loan": "DHK-L-000045",
        "currency": currency,
        "due_date": "2026-12-12",
        "due_minor": a["instalment"],
        "installment_number": 3,
    }
    shares = {
        "amount_minor": a["amount"],
        "shares": 10,
        "currency": currency,
        "member": "DHK-000123",
        "value_date": "2026-12-05",
    }
    contexts: dict[str, dict[str, Any]] = {
        K.SAVINGS_DEPOSIT: savings,
        K.SAVINGS_WITHDRAWAL: savings,
        K.SAVINGS_TRANSFER: {**savings, "direction": "out"},
        K.SAVINGS_INTEREST: {**savings, "amount_minor": a["interest"]},
        K.INSTALMENT_RECEIVED: {
            "amount_minor": a["instalment"],
            "currency": currency,
            "loan": "DHK-L-000045",
            "value_date": "2026-12-05",
            "outstanding_minor": a["outstanding"],
            "next_due_date": "2026-12-12",
            "next_due_minor": a["instalment"],
        },
        K.LOAN_DISBURSED: {
            "amount_minor": a["loan"],
            "net_minor": a["loan"],
            "currency": currency,
            "loan": "DHK-L-000045",
            "value_date": "2026-12-05",
            "installments": 46,
            "first_due_date": "2026-12-12",
            "first_installment_minor": a["instalment"],
        },
        K.SHARE_PURCHASE: {**shares, "shares_held": 25, "balance_minor": a["amount"] * 25 // 10},
        K.SHARE_WITHDRAWAL: {**shares, "shares_held": 15, "balance_minor": a["amount"] * 15 // 10},
        K.CORRECTION: {
            "account": "DHK-000123-GS-1",
            "original_minor": a["amount"] * 2,
            "amount_minor": a["amount"],
            "balance_minor": a["balance"],
            "currency": currency,
            "value_date": "2026-12-05",
        },
        K.UPCOMING_REMINDER: {**reminder, "days": 2},
        K.OVERDUE_REMINDER: {**reminder, "days": 1},
        K.ONE_TIME_CODE: {"code": "482913"},
        K.BALANCE_REPLY: {
            "balance_minor": a["balance"],
            "currency": currency,
            "next_due_date": "2026-12-12",
            "next_due_minor": a["instalment"],
        },
    }
    return contexts[MessageKind(kind)]


def _render(kind: str, language: str, currency: str, workspace: WorkspaceTexts) -> Any:
    return text_render(
        kind=kind,
        language=language,
        text=texts.default_template(kind, language),
        context=realistic_context(kind, currency),
        workspace=workspace,
    )


# (kind, language, native digits, text, encoding, segments)
SHIPPED = [
    ("savings_deposit", "bn", False, "সঞ্চয় জমা 5,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,000.00৳", "UCS-2", 1),
    (
        "savings_deposit",
        "vi",
        False,
        "Gửi tiết kiệm 2.000.000 ₫ TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫",
        "UCS-2",
        1,
    ),
    ("savings_deposit", "th", False, "ฝากเงิน ฿1,500.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "savings_deposit",
        "en",
        False,
        "Savings deposit of BDT 5,000.00 to account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",
        "GSM-7",
        1,
    ),
    (
        "savings_withdrawal",
        "bn",
        False,
        "সঞ্চয় উত্তোলন 5,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,000.00৳",
        "UCS-2",
        1,
    ),
    (
        "savings_withdrawal",
        "vi",
        False,
        "Rút tiết kiệm 2.000.000 ₫ TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫",
        "UCS-2",
        1,
    ),
    ("savings_withdrawal", "th", False, "ถอนเงิน ฿1,500.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "savings_withdrawal",
        "en",
        False,
        "Savings withdrawal of BDT 5,000.00 from account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "savings_transfer",
        "bn",
        False,
        "স্থানান্তর প্রেরণ 5,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,000.00৳",
        "UCS-2",
        1,
    ),
    (
        "savings_transfer",
        "vi",
        False,
        "Chuyển đi 2.000.000 ₫ TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫",
        "UCS-2",
        1,
    ),
    ("savings_transfer", "th", False, "โอนเงินออก ฿1,500.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "savings_transfer",
        "en",
        False,
        "Transfer of BDT 5,000.00 sent from savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    ("savings_interest", "bn", False, "সঞ্চয়ে মুনাফা জমা 500.00৳, হিসাব GS-1। স্থিতি 1,25,000.00৳", "UCS-2", 1),
    (
        "savings_interest",
        "vi",
        False,
        "Tiền lãi 200.000 ₫ vào TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫",
        "UCS-2",
        1,
    ),
    ("savings_interest", "th", False, "ดอกเบี้ย ฿150.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "savings_interest",
        "en",
        False,
        "Interest of BDT 500.00 paid to savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "instalment_received",
        "bn",
        False,
        "কিস্তি জমা 1,250.00৳, ঋণ DHK-L-000045, 5/12/26। বাকি 45,000.00৳",
        "UCS-2",
        1,
    ),
    (
        "instalment_received",
        "vi",
        False,
        "Đã thu nợ 1.850.000 ₫ khoản vay DHK-L-000045. Dư nợ 9.000.000 ₫",
        "UCS-2",
        1,
    ),
    (
        "instalment_received",
        "th",
        False,
        "รับชำระ ฿2,500.00 เงินกู้ DHK-L-000045 5/12/2569 คงค้าง ฿15,000.00",
        "UCS-2",
        1,
    ),
    (
        "instalment_received",
        "en",
        False,
        "Instalment of BDT 1,250.00 received for loan DHK-L-000045 on 5 Dec 2026. Still owed: BDT 45,000.00.",
        "GSM-7",
        1,
    ),
    (
        "loan_disbursed",
        "bn",
        False,
        "ঋণ DHK-L-000045 বিতরণ 50,000.00৳। প্রথম কিস্তি 1,250.00৳, 12/12/26",
        "UCS-2",
        1,
    ),
    (
        "loan_disbursed",
        "vi",
        False,
        "Giải ngân DHK-L-000045 20.000.000 ₫. Kỳ đầu 12/12/26: 1.850.000 ₫",
        "UCS-2",
        1,
    ),
    (
        "loan_disbursed",
        "th",
        False,
        "จ่ายเงินกู้ DHK-L-000045 ฿30,000.00 งวดแรก ฿2,500.00 12/12/2569",
        "UCS-2",
        1,
    ),
    (
        "loan_disbursed",
        "en",
        False,
        "Loan DHK-L-000045 of BDT 50,000.00 paid out on 5 Dec 2026. First instalment BDT 1,250.00 due 12 Dec 2026.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    ("share_purchase", "bn", False, "শেয়ার ক্রয় 10টি, 5,000.00৳, 5/12/26। মোট শেয়ার 25টি", "UCS-2", 1),
    ("share_purchase", "vi", False, "Mua 10 cổ phần 2.000.000 ₫ ngày 5/12/26. Tổng 25 cổ phần", "UCS-2", 1),
    ("share_purchase", "th", False, "ซื้อหุ้น 10 หุ้น ฿1,500.00 5/12/2569 รวม 25 หุ้น", "UCS-2", 1),
    (
        "share_purchase",
        "en",
        False,
        "Purchase of 10 shares for BDT 5,000.00 on 5 Dec 2026. You now hold 25 shares (BDT 12,500.00).",
        "GSM-7",
        1,
    ),
    ("share_withdrawal", "bn", False, "শেয়ার ফেরত 10টি, 5,000.00৳, 5/12/26। মোট শেয়ার 15টি", "UCS-2", 1),
    ("share_withdrawal", "vi", False, "Rút 10 cổ phần 2.000.000 ₫ ngày 5/12/26. Còn 15 cổ phần", "UCS-2", 1),
    ("share_withdrawal", "th", False, "ถอนหุ้น 10 หุ้น ฿1,500.00 5/12/2569 คงเหลือ 15 หุ้น", "UCS-2", 1),
    (
        "share_withdrawal",
        "en",
        False,
        "Withdrawal of 10 shares for BDT 5,000.00 on 5 Dec 2026. You now hold 15 shares (BDT 7,500.00).",
        "GSM-7",
        1,
    ),
    (
        "correction",
        "bn",
        False,
        "সংশোধন: হিসাব GS-1, 5,000.00৳ (আগে 10,000.00৳)। স্থিতি 1,25,000.00৳",
        "UCS-2",
        1,
    ),
    (
        "correction",
        "vi",
        False,
        "Sửa GD TK GS-1: 4.000.000 ₫ thành 2.000.000 ₫. Số dư 15.000.000 ₫",
        "UCS-2",
        1,
    ),
    ("correction", "th", False, "แก้ไขรายการ บัญชี GS-1 ฿3,000.00 เป็น ฿1,500.00 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "correction",
        "en",
        False,
        "Correction on account DHK-000123-GS-1: BDT 10,000.00 is now BDT 5,000.00 (5 Dec 2026). Balance: BDT 125,000.00.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "upcoming_reminder",
        "bn",
        False,
        "ঋণ DHK-L-000045 এর কিস্তি 1,250.00৳ পরিশোধের তারিখ 12/12/26",
        "UCS-2",
        1,
    ),
    (
        "upcoming_reminder",
        "vi",
        False,
        "Khoản vay DHK-L-000045 đến hạn trả 1.850.000 ₫ ngày 12/12/26",
        "UCS-2",
        1,
    ),
    ("upcoming_reminder", "th", False, "เงินกู้ DHK-L-000045 งวดที่ 3 ฿2,500.00 ครบกำหนด 12/12/2569", "UCS-2", 1),
    (
        "upcoming_reminder",
        "en",
        False,
        "Reminder: instalment 3 of loan DHK-L-000045, BDT 1,250.00, is due on 12 Dec 2026.",
        "GSM-7",
        1,
    ),
    (
        "overdue_reminder",
        "bn",
        False,
        "ঋণ DHK-L-000045 এর কিস্তি 1,250.00৳ বকেয়া, তারিখ ছিল 12/12/26",
        "UCS-2",
        1,
    ),
    (
        "overdue_reminder",
        "vi",
        False,
        "Vay DHK-L-000045 quá hạn 1.850.000 ₫ từ 12/12/26. Vui lòng trả sớm",
        "UCS-2",
        1,
    ),
    ("overdue_reminder", "th", False, "เงินกู้ DHK-L-000045 ค้างชำระ ฿2,500.00 ตั้งแต่ 12/12/2569", "UCS-2", 1),
    (
        "overdue_reminder",
        "en",
        False,
        "Overdue: instalment 3 of loan DHK-L-000045, BDT 1,250.00, was due on 12 Dec 2026. Please pay soon.",
        "GSM-7",
        1,
    ),
    ("one_time_code", "bn", False, "আপনার কোড 482913। কাউকে বলবেন না", "UCS-2", 1),
    ("one_time_code", "vi", False, "Mã xác nhận của bạn là 482913. Không chia sẻ mã này", "UCS-2", 1),
    ("one_time_code", "th", False, "รหัสยืนยันของคุณคือ 482913 ห้ามบอกผู้อื่น", "UCS-2", 1),
    ("one_time_code", "en", False, "Your code is 482913. Do not share it with anyone.", "GSM-7", 1),
    ("balance_reply", "bn", False, "সঞ্চয় স্থিতি 1,25,000.00৳। পরবর্তী কিস্তি 1,250.00৳, 12/12/26", "UCS-2", 1),
    ("balance_reply", "vi", False, "Số dư tiết kiệm 15.000.000 ₫. Kỳ tới 12/12/26: 1.850.000 ₫", "UCS-2", 1),
    ("balance_reply", "th", False, "เงินฝากคงเหลือ ฿25,000.00 งวดถัดไป ฿2,500.00 12/12/2569", "UCS-2", 1),
    (
        "balance_reply",
        "en",
        False,
        "Savings balance: BDT 125,000.00. Next instalment BDT 1,250.00 due 12 Dec 2026.",
        "GSM-7",
        1,
    ),
    ("savings_deposit", "bn", True, "সঞ্চয় জমা ৫,০০০.০০৳, হিসাব GS-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳", "UCS-2", 1),
    ("savings_deposit", "th", True, "ฝากเงิน ฿๑,๕๐๐.๐๐ บัญชี GS-1 ๕/๑๒/๒๕๖๙ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    (
        "savings_withdrawal",
        "bn",
        True,
        "সঞ্চয় উত্তোলন ৫,০০০.০০৳, হিসাব GS-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳",
        "UCS-2",
        1,
    ),
    ("savings_withdrawal", "th", True, "ถอนเงิน ฿๑,๕๐๐.๐๐ บัญชี GS-1 ๕/๑๒/๒๕๖๙ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    (
        "savings_transfer",
        "bn",
        True,
        "স্থানান্তর প্রেরণ ৫,০০০.০০৳, হিসাব GS-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳",
        "UCS-2",
        1,
    ),
    ("savings_transfer", "th", True, "โอนเงินออก ฿๑,๕๐๐.๐๐ บัญชี GS-1 ๕/๑๒/๒๕๖๙ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    ("savings_interest", "bn", True, "সঞ্চয়ে মুনাফা জমা ৫০০.০০৳, হিসাব GS-1। স্থিতি ১,২৫,০০০.০০৳", "UCS-2", 1),
    ("savings_interest", "th", True, "ดอกเบี้ย ฿๑๕๐.๐๐ บัญชี GS-1 ๕/๑๒/๒๕๖๙ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    (
        "instalment_received",
        "bn",
        True,
        "কিস্তি জমা ১,২৫০.০০৳, ঋণ DHK-L-000045, ৫/১২/২৬। বাকি ৪৫,০০০.০০৳",
        "UCS-2",
        1,
    ),
    (
        "instalment_received",
        "th",
        True,
        "รับชำระ ฿๒,๕๐๐.๐๐ เงินกู้ DHK-L-000045 ๕/๑๒/๒๕๖๙ คงค้าง ฿๑๕,๐๐๐.๐๐",
        "UCS-2",
        1,
    ),
    (
        "loan_disbursed",
        "bn",
        True,
        "ঋণ DHK-L-000045 বিতরণ ৫০,০০০.০০৳। প্রথম কিস্তি ১,২৫০.০০৳, ১২/১২/২৬",
        "UCS-2",
        1,
    ),
    ("loan_disbursed", "th", True, "จ่ายเงินกู้ DHK-L-000045 ฿๓๐,๐๐๐.๐๐ งวดแรก ฿๒,๕๐๐.๐๐ ๑๒/๑๒/๒๕๖๙", "UCS-2", 1),
    ("share_purchase", "bn", True, "শেয়ার ক্রয় ১০টি, ৫,০০০.০০৳, ৫/১২/২৬। মোট শেয়ার ২৫টি", "UCS-2", 1),
    ("share_purchase", "th", True, "ซื้อหุ้น ๑๐ หุ้น ฿๑,๕๐๐.๐๐ ๕/๑๒/๒๕๖๙ รวม ๒๕ หุ้น", "UCS-2", 1),
    ("share_withdrawal", "bn", True, "শেয়ার ফেরত ১০টি, ৫,০০০.০০৳, ৫/১২/২৬। মোট শেয়ার ১৫টি", "UCS-2", 1),
    ("share_withdrawal", "th", True, "ถอนหุ้น ๑๐ หุ้น ฿๑,๕๐๐.๐๐ ๕/๑๒/๒๕๖๙ คงเหลือ ๑๕ หุ้น", "UCS-2", 1),
    (
        "correction",
        "bn",
        True,
        "সংশোধন: হিসাব GS-1, ৫,০০০.০০৳ (আগে ১০,০০০.০০৳)। স্থিতি ১,২৫,০০০.০০৳",
        "UCS-2",
        1,
    ),
    ("correction", "th", True, "แก้ไขรายการ บัญชี GS-1 ฿๓,๐๐๐.๐๐ เป็น ฿๑,๕๐๐.๐๐ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    (
        "upcoming_reminder",
        "bn",
        True,
        "ঋণ DHK-L-000045 এর কিস্তি ১,২৫০.০০৳ পরিশোধের তারিখ ১২/১২/২৬",
        "UCS-2",
        1,
    ),
    ("upcoming_reminder", "th", True, "เงินกู้ DHK-L-000045 งวดที่ ๓ ฿๒,๕๐๐.๐๐ ครบกำหนด ๑๒/๑๒/๒๕๖๙", "UCS-2", 1),
    (
        "overdue_reminder",
        "bn",
        True,
        "ঋণ DHK-L-000045 এর কিস্তি ১,২৫০.০০৳ বকেয়া, তারিখ ছিল ১২/১২/২৬",
        "UCS-2",
        1,
    ),
    ("overdue_reminder", "th", True, "เงินกู้ DHK-L-000045 ค้างชำระ ฿๒,๕๐๐.๐๐ ตั้งแต่ ๑๒/๑๒/๒๕๖๙", "UCS-2", 1),
    ("one_time_code", "bn", True, "আপনার কোড 482913। কাউকে বলবেন না", "UCS-2", 1),
    ("one_time_code", "th", True, "รหัสยืนยันของคุณคือ 482913 ห้ามบอกผู้อื่น", "UCS-2", 1),
    ("balance_reply", "bn", True, "সঞ্চয় স্থিতি ১,২৫,০০০.০০৳। পরবর্তী কিস্তি ১,২৫০.০০৳, ১২/১২/২৬", "UCS-2", 1),
    ("balance_reply", "th", True, "เงินฝากคงเหลือ ฿๒๕,๐๐๐.๐๐ งวดถัดไป ฿๒,๕๐๐.๐๐ ๑๒/๑๒/๒๕๖๙", "UCS-2", 1),
]

UNACCENTED_VIETNAMESE = [
    ("savings_deposit", "Gui tiet kiem 2.000.000 VND TK GS-1 ngay 5/12/26. So du 15.000.000 VND", "GSM-7", 1),
    (
        "savings_withdrawal",
        "Rut tiet kiem 2.000.000 VND TK GS-1 ngay 5/12/26. So du 15.000.000 VND",
        "GSM-7",
        1,
    ),
    ("savings_transfer", "Chuyen di 2.000.000 VND TK GS-1 ngay 5/12/26. So du 15.000.000 VND", "GSM-7", 1),
    ("savings_interest", "Tien lai 200.000 VND vao TK GS-1 ngay 5/12/26. So du 15.000.000 VND", "GSM-7", 1),
    (
        "instalment_received",
        "Da thu no 1.850.000 VND khoan vay DHK-L-000045. Du no 9.000.000 VND",
        "GSM-7",
        1,
    ),
    ("loan_disbursed", "Giai ngan DHK-L-000045 20.000.000 VND. Ky dau 12/12/26: 1.850.000 VND", "GSM-7", 1),
    ("share_purchase", "Mua 10 co phan 2.000.000 VND ngay 5/12/26. Tong 25 co phan", "GSM-7", 1),
    ("share_withdrawal", "Rut 10 co phan 2.000.000 VND ngay 5/12/26. Con 15 co phan", "GSM-7", 1),
    ("correction", "Sua GD TK GS-1: 4.000.000 VND thanh 2.000.000 VND. So du 15.000.000 VND", "GSM-7", 1),
    ("upcoming_reminder", "Khoan vay DHK-L-000045 den han tra 1.850.000 VND ngay 12/12/26", "GSM-7", 1),
    ("overdue_reminder", "Vay DHK-L-000045 qua han 1.850.000 VND tu 12/12/26. Vui long tra som", "GSM-7", 1),
    ("one_time_code", "Ma xac nhan cua ban la 482913. Khong chia se ma nay", "GSM-7", 1),
    ("balance_reply", "So du tiet kiem 15.000.000 VND. Ky toi 12/12/26: 1.850.000 VND", "GSM-7", 1),
]

ENGLISH_IN_DONG = [
    (
        "savings_deposit",
        "Savings deposit of VND 2,000,000 to account DHK-000123-GS-1 on 5 Dec 2026. Balance: VND 15,000,000.",
        "GSM-7",
        1,
    ),
    (
        "savings_withdrawal",
        "Savings withdrawal of VND 2,000,000 from account DHK-000123-GS-1 on 5 Dec 2026. Balance: VND 15,000,000.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "savings_transfer",
        "Transfer of VND 2,000,000 sent from savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: VND 15,000,000.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "savings_interest",
        "Interest of VND 200,000 paid to savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: VND 15,000,000.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "instalment_received",
        "Instalment of VND 1,850,000 received for loan DHK-L-000045 on 5 Dec 2026. Still owed: VND 9,000,000.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "loan_disbursed",
        "Loan DHK-L-000045 of VND 20,000,000 paid out on 5 Dec 2026. First instalment VND 1,850,000 due 12 Dec 2026.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "share_purchase",
        "Purchase of 10 shares for VND 2,000,000 on 5 Dec 2026. You now hold 25 shares (VND 5,000,000).",
        "GSM-7",
        1,
    ),
    (
        "share_withdrawal",
        "Withdrawal of 10 shares for VND 2,000,000 on 5 Dec 2026. You now hold 15 shares (VND 3,000,000).",
        "GSM-7",
        1,
    ),
    (
        "correction",
        "Correction on account DHK-000123-GS-1: VND 4,000,000 is now VND 2,000,000 (5 Dec 2026). Balance: VND 15,000,000.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "upcoming_reminder",
        "Reminder: instalment 3 of loan DHK-L-000045, VND 1,850,000, is due on 12 Dec 2026.",
        "GSM-7",
        1,
    ),
    (
        "overdue_reminder",
        "Overdue: instalment 3 of loan DHK-L-000045, VND 1,850,000, was due on 12 Dec 2026. Please pay soon.",
        "GSM-7",
        1,
    ),
    ("one_time_code", "Your code is 482913. Do not share it with anyone.", "GSM-7", 1),
    (
        "balance_reply",
        "Savings balance: VND 15,000,000. Next instalment VND 1,850,000 due 12 Dec 2026.",
        "GSM-7",
        1,
    ),
]


def test_every_kind_has_a_shipped_template_in_every_language() -> None:
    assert set(texts.KINDS) == set(MessageKind)
    shipped = {(kind, language) for kind, language, *_rest in SHIPPED}
    assert shipped == {(kind.value, language) for kind in MessageKind for language in texts.LANGUAGES}
    for kind in MessageKind:
        for language in texts.LANGUAGES:
            assert texts.template_problems(kind, texts.default_template(kind, language)) == []


@pytest.mark.parametrize(("kind", "language", "native_digits", "body", "encoding", "segments"), SHIPPED)
def test_shipped_template_renders_to_one_segment(  # noqa: PLR0917 - one parameter per column
    kind: str, language: str, native_digits: bool, body: str, encoding: str, segments: int
) -> None:
    rendered = _render(kind, language, CURRENCY[language], WorkspaceTexts(native_digits=native_digits))
    assert rendered.body == body
    assert (rendered.encoding, rendered.segments) == (encoding, segments)
    units = len(body.encode("utf-16-le")) // 2
    if language == "en":
        assert encoding == "GSM-7" and units <= 160
    else:
        assert encoding == "UCS-2" and units <= 70


@pytest.mark.parametrize(("kind", "body", "encoding", "segments"), UNACCENTED_VIETNAMESE)
def test_unaccented_vietnamese_stays_gsm_7(kind: str, body: str, encoding: str, segments: int) -> None:
    rendered = _render(kind, "vi", "VND", WorkspaceTexts(unaccented_vietnamese=True))
    assert (rendered.body, rendered.encoding, rendered.segments) == (body, encoding, segments)


@pytest.mark.parametrize(("kind", "body", "encoding", "segments"), ENGLISH_IN_DONG)
def test_english_writes_the_currency_code_so_it_stays_gsm_7(
    kind: str, body: str, encoding: str, segments: int
) -> None:
    rendered = _render(kind, "en", "VND", WorkspaceTexts())
    assert (rendered.body, rendered.encoding, rendered.segments) == (body, encoding, segments)


def test_a_larger_amount_can_push_a_bangla_text_into_two_segments() -> None:
    """The count is of the text as sent, not of the template: a withdrawal of ৳12,50,000.00 from a
    balance of ৳1,25,00,000.00 does not fit 70 units."""
    context = realistic_context(K.SAVINGS_WITHDRAWAL, "BDT") | {
        "amount_minor": 125_000_000,
        "balance_minor": 1_250_000_000,
    }
    rendered = text_render(
        kind=K.SAVINGS_WITHDRAWAL,
        language="bn",
        text=texts.default_template(K.SAVINGS_WITHDRAWAL, "bn"),
        context=context,
        workspace=WorkspaceTexts(),
    )
    assert rendered.body == "সঞ্চয় উত্তোলন 12,50,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,00,000.00৳"
    assert sms_measure(rendered.body).units == 73
    assert (rendered.encoding, rendered.segments) == ("UCS-2", 2)


def test_a_text_typed_decomposed_is_sent_composed() -> None:
    """Some keyboards type Vietnamese decomposed; the SMS is sent composed, each letter one unit."""
    typed = unicodedata.normalize("NFD", "Số dư {{ balance }}, kỳ đầu")
    assert len(typed) == 33
    rendered = text_render(
        kind=K.SAVINGS_DEPOSIT,
        language="vi",
        text=typed,
        context=realistic_context(K.SAVINGS_DEPOSIT, "VND"),
        workspace=WorkspaceTexts(),
    )
    assert rendered.body == "Số dư 15.000.000 ₫, kỳ đầu"
    assert sms_measure(rendered.body).units == 26
    assert (rendered.encoding, rendered.segments) == ("UCS-2", 1)


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_the_balance_reply_without_a_loan_leaves_the_instalment_out(language: str) -> None:
    currency = CURRENCY[language]
    context = {"balance_minor": AMOUNTS[currency]["balance"] * MINOR[currency], "currency": currency}
    rendered = text_render(
        kind=K.BALANCE_REPLY,
        language=language,
        text=texts.default_template(K.BALANCE_REPLY, language),
        context=context,
        workspace=WorkspaceTexts(),
    )
    assert (
        rendered.body
        == {
            "bn": "সঞ্চয় স্থিতি 1,25,000.00৳।",
            "vi": "Số dư tiết kiệm 15.000.000 ₫.",
            "th": "เงินฝากคงเหลือ ฿25,000.00",
            "en": "Savings balance: BDT 125,000.00.",
        }[language]
    )
    assert rendered.segments == 1


# The other side of a transfer, and a row written before transfers said their side (no direction).
TRANSFER_SIDES = [
    ("bn", "in", False, "স্থানান্তর জমা 5,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,000.00৳", "UCS-2", 1),
    ("bn", "in", True, "স্থানান্তর জমা ৫,০০০.০০৳, হিসাব GS-1, ৫/১২/২৬। স্থিতি ১,২৫,০০০.০০৳", "UCS-2", 1),
    ("bn", "", False, "স্থানান্তর 5,000.00৳, হিসাব GS-1, 5/12/26। স্থিতি 1,25,000.00৳", "UCS-2", 1),
    ("vi", "in", False, "Chuyển đến 2.000.000 ₫ TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫", "UCS-2", 1),
    ("vi", "", False, "Chuyển khoản 2.000.000 ₫ TK GS-1 ngày 5/12/26. Số dư 15.000.000 ₫", "UCS-2", 1),
    ("th", "in", False, "โอนเงินเข้า ฿1,500.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    ("th", "in", True, "โอนเงินเข้า ฿๑,๕๐๐.๐๐ บัญชี GS-1 ๕/๑๒/๒๕๖๙ คงเหลือ ฿๒๕,๐๐๐.๐๐", "UCS-2", 1),
    ("th", "", False, "โอนเงิน ฿1,500.00 บัญชี GS-1 5/12/2569 คงเหลือ ฿25,000.00", "UCS-2", 1),
    (
        "en",
        "in",
        False,
        "Transfer of BDT 5,000.00 received on savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",  # noqa: E501 - the text as sent, on one line
        "GSM-7",
        1,
    ),
    (
        "en",
        "",
        False,
        "Transfer of BDT 5,000.00 on savings account DHK-000123-GS-1 on 5 Dec 2026. Balance: BDT 125,000.00.",
        "GSM-7",
        1,
    ),
]


@pytest.mark.parametrize(
    ("language", "direction", "native_digits", "body", "encoding", "segments"), TRANSFER_SIDES
)
def test_a_transfer_says_which_side_each_account_was(  # noqa: PLR0917 - one parameter per column
    language: str, direction: str, native_digits: bool, body: str, encoding: str, segments: int
) -> None:
    context = realistic_context(K.SAVINGS_TRANSFER, CURRENCY[language])
    context = (
        {**context, "direction": direction}
        if direction
        else {k: v for k, v in context.items() if k != "direction"}
    )
    rendered = text_render(
        kind=K.SAVINGS_TRANSFER,
        language=language,
        text=texts.default_template(K.SAVINGS_TRANSFER, language),
        context=context,
        workspace=WorkspaceTexts(native_digits=native_digits),
    )
    assert (rendered.body, rendered.encoding, rendered.segments) == (body, encoding, segments)
