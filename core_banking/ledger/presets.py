# ruff: noqa: E501 - one account per line reads best as a table
"""The chart of accounts a new cooperative starts with, by language (editable afterwards).

Plain data: codes are shared by every country so that reports and later features can name
control accounts by code; the names are in the cooperative's own language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PresetAccount:
    code: str
    kind: str
    names: dict[str, str]


CASH_CONTROL_PREFIX = "1100"  # one cash account per branch: 1100-<branch code>
CASH_NAMES = {"en": "Cash in hand", "bn": "হাতে নগদ", "vi": "Tiền mặt tại quỹ", "th": "เงินสดในมือ"}

CHART: tuple[PresetAccount, ...] = (
    PresetAccount("1200", "asset", {"en": "Cash at bank", "bn": "ব্যাংকে জমা", "vi": "Tiền gửi ngân hàng", "th": "เงินฝากธนาคาร"}),
    PresetAccount("1300", "asset", {"en": "Loans receivable", "bn": "প্রদত্ত ঋণ", "vi": "Cho vay thành viên", "th": "ลูกหนี้เงินกู้"}),
    PresetAccount("1390", "asset", {"en": "Loan-loss provision", "bn": "ঋণ ক্ষতি সঞ্চিতি", "vi": "Dự phòng rủi ro cho vay", "th": "ค่าเผื่อหนี้สงสัยจะสูญ"}),
    PresetAccount("1400", "asset", {"en": "Interest receivable", "bn": "প্রাপ্য সুদ", "vi": "Lãi phải thu", "th": "ดอกเบี้ยค้างรับ"}),
    PresetAccount("1450", "asset", {"en": "Cash shortages awaiting resolution", "bn": "নগদ ঘাটতি (নিষ্পত্তির অপেক্ষায়)", "vi": "Tiền mặt thiếu chờ xử lý", "th": "เงินสดขาดบัญชีรอตรวจสอบ"}),
    PresetAccount("2100", "liability", {"en": "Members' savings", "bn": "সদস্যদের সঞ্চয়", "vi": "Tiền gửi tiết kiệm của thành viên", "th": "เงินรับฝากจากสมาชิก"}),
    PresetAccount("2200", "liability", {"en": "Interest payable", "bn": "প্রদেয় সুদ", "vi": "Lãi phải trả", "th": "ดอกเบี้ยค้างจ่าย"}),
    PresetAccount("2300", "liability", {"en": "Suspense", "bn": "অনিশ্চিত হিসাব", "vi": "Tài khoản tạm treo", "th": "บัญชีพักรอการตรวจสอบ"}),
    PresetAccount("2310", "liability", {"en": "Cash surpluses awaiting resolution", "bn": "নগদ উদ্বৃত্ত (নিষ্পত্তির অপেক্ষায়)", "vi": "Tiền mặt thừa chờ giải quyết", "th": "เงินสดเกินบัญชีรอตรวจสอบ"}),
    PresetAccount("3100", "equity", {"en": "Share capital", "bn": "শেয়ার মূলধন", "vi": "Vốn góp của thành viên", "th": "ทุนเรือนหุ้น"}),
    PresetAccount("3200", "equity", {"en": "Reserve fund", "bn": "সংরক্ষিত তহবিল", "vi": "Quỹ dự trữ", "th": "ทุนสำรอง"}),
    PresetAccount("3900", "equity", {"en": "Retained surplus", "bn": "সঞ্চিত উদ্বৃত্ত", "vi": "Thặng dư chưa phân phối", "th": "กำไรสุทธิสะสม"}),
    PresetAccount("4100", "income", {"en": "Interest income on loans", "bn": "ঋণের সুদ আয়", "vi": "Thu lãi cho vay", "th": "รายได้ดอกเบี้ยเงินกู้"}),
    PresetAccount("4200", "income", {"en": "Penalty income", "bn": "জরিমানা আয়", "vi": "Thu phạt chậm trả", "th": "รายได้ค่าปรับ"}),
    PresetAccount("4300", "income", {"en": "Fee income", "bn": "ফি আয়", "vi": "Thu phí", "th": "รายได้ค่าธรรมเนียม"}),
    PresetAccount("4400", "income", {"en": "Recoveries of written-off loans", "bn": "অবলোপনকৃত ঋণ আদায়", "vi": "Thu hồi nợ đã xóa sổ", "th": "หนี้สูญได้รับคืน"}),
    PresetAccount("5100", "expense", {"en": "Interest on savings", "bn": "সঞ্চয়ের সুদ ব্যয়", "vi": "Chi trả lãi tiền gửi", "th": "ดอกเบี้ยจ่ายเงินรับฝาก"}),
    PresetAccount("5200", "expense", {"en": "Provision for loan losses", "bn": "ঋণ ক্ষতি সঞ্চিতি ব্যয়", "vi": "Chi phí dự phòng rủi ro", "th": "หนี้สงสัยจะสูญ"}),
    PresetAccount("5300", "expense", {"en": "Operating expenses", "bn": "পরিচালন ব্যয়", "vi": "Chi phí hoạt động", "th": "ค่าใช้จ่ายในการดำเนินงาน"}),
)  # fmt: skip


def cash_account_code(branch_code: str) -> str:
    return f"{CASH_CONTROL_PREFIX}-{branch_code}"


def name_in(names: dict[str, str], language: str) -> str:
    return names.get(language) or names["en"]
