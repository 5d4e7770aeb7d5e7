"""What a cooperative fills in to bring its records over: one template per entity. Plain Python.

Each template lists its fields (key, type, required, description) with the column header in
English, Bangla, Vietnamese and Thai; a file's header matches a field when it equals any of
these or a further alias, compared by ``text.header_key`` (case, spacing and punctuation do not
matter, NFC). The example rows are written in each language's own conventions (Bangla digits and
lakh grouping, Vietnamese dot grouping in dong, Thai Buddhist-era dates) and are valid as written.

Descriptions and entity titles are English source strings; the Django layer translates them.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO

from imports.engine.i18n import gettext_noop
from imports.engine.text import header_key
from imports.engine.values import DateSettings

LANGUAGES = ("en", "bn", "vi", "th")


class FieldType(enum.StrEnum):
    TEXT = "text"
    NAME = "name"  # a person's or place's name: Bijoy conversion applies here when asked
    CODE = "code"  # an identifier from the old system (member number, account number)
    DATE = "date"
    AMOUNT = "amount"  # money, in the workspace's currency
    DECIMAL = "decimal"  # a rate or a percentage
    INTEGER = "integer"
    PHONE = "phone"
    NATIONAL_ID = "national_id"
    EMAIL = "email"
    BOOL = "bool"
    CHOICE = "choice"
    CODE_LIST = "code_list"  # several identifiers in one cell: "M-1; M-2"


@dataclass(frozen=True)
class Field:
    key: str
    type: FieldType
    required: bool
    description: str
    headers: Mapping[str, str]  # language → the header the template writes
    aliases: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # value → what may be typed

    def header(self, language: str) -> str:
        return self.headers.get(language) or self.headers["en"]

    def choice_index(self) -> dict[str, str]:
        """{header_key(anything typed) → canonical value}."""
        index: dict[str, str] = {}
        for value, spellings in self.choices.items():
            for spelling in (value, value.replace("_", " "), *spellings):
                index[header_key(spelling)] = value
        return index


@dataclass(frozen=True)
class EntityTemplate:
    key: str
    title: str
    fields: tuple[Field, ...]
    examples: Mapping[str, tuple[Mapping[str, str], ...]]  # language → rows {field key → cell}

    def field(self, key: str) -> Field:
        return next(item for item in self.fields if item.key == key)

    @property
    def required_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.fields if item.required)

    def header_index(self) -> dict[str, str]:
        """{header_key(any accepted header) → field key}."""
        index: dict[str, str] = {}
        for item in self.fields:
            for header in (item.key, *item.headers.values(), *item.aliases):
                index.setdefault(header_key(header), item.key)
        return index

    def example_rows(self, language: str) -> tuple[Mapping[str, str], ...]:
        return self.examples.get(language) or self.examples["en"]


@dataclass(frozen=True)
class LocaleDefaults:
    """What a template in a language assumes until a profile says otherwise."""

    country: str
    currency: str
    dates: DateSettings


LOCALE_DEFAULTS: dict[str, LocaleDefaults] = {
    "en": LocaleDefaults("BD", "BDT", DateSettings()),
    "bn": LocaleDefaults("BD", "BDT", DateSettings()),
    "vi": LocaleDefaults("VN", "VND", DateSettings()),
    "th": LocaleDefaults("TH", "THB", DateSettings(buddhist_era=True)),
}


def _f(
    key: str,
    type_: FieldType,
    required: bool,
    description: str,
    headers: tuple[str, str, str, str],
    *aliases: str,
    choices: Mapping[str, tuple[str, ...]] | None = None,
) -> Field:
    return Field(
        key=key,
        type=type_,
        required=required,
        description=description,
        headers=dict(zip(LANGUAGES, headers, strict=True)),
        aliases=aliases,
        choices=choices or {},
    )


T = FieldType

# --- Shared fields and choices -------------------------------------------------------------------

GENDERS = {
    "female": ("f", "woman", "মহিলা", "নারী", "স্ত্রী", "nữ", "nu", "หญิง", "ผู้หญิง", "นาง", "นางสาว"),
    "male": ("m", "man", "পুরুষ", "nam", "ชาย", "ผู้ชาย", "นาย"),
    "other": ("অন্যান্য", "khác", "อื่นๆ", "อื่น"),
}
MEMBER_STATUSES = {
    "active": ("সক্রিয়", "চালু", "hoạt động", "đang hoạt động", "ปกติ", "ใช้งาน"),
    "suspended_from_borrowing": (
        "suspended",
        "স্থগিত",
        "ঋণ স্থগিত",
        "tạm ngưng vay",
        "tạm ngưng",
        "ระงับการกู้",
        "ระงับ",
    ),
    "exited": ("exit", "অব্যাহতি", "প্রত্যাহার", "ra khỏi tổ", "đã rút", "ลาออก", "พ้นสภาพ"),
}
WEEKDAYS = {
    "monday": ("mon", "সোমবার", "সোম", "thứ hai", "thứ 2", "t2", "วันจันทร์", "จันทร์"),
    "tuesday": ("tue", "মঙ্গলবার", "মঙ্গল", "thứ ba", "thứ 3", "t3", "วันอังคาร", "อังคาร"),
    "wednesday": ("wed", "বুধবার", "বুধ", "thứ tư", "thứ 4", "t4", "วันพุธ", "พุธ"),
    "thursday": ("thu", "বৃহস্পতিবার", "বৃহস্পতি", "thứ năm", "thứ 5", "t5", "วันพฤหัสบดี", "พฤหัสบดี", "พฤหัส"),
    "friday": ("fri", "শুক্রবার", "শুক্র", "thứ sáu", "thứ 6", "t6", "วันศุกร์", "ศุกร์"),
    "saturday": ("sat", "শনিবার", "শনি", "thứ bảy", "thứ 7", "t7", "วันเสาร์", "เสาร์"),
    "sunday": ("sun", "রবিবার", "রবি", "chủ nhật", "cn", "วันอาทิตย์", "อาทิตย์"),
}
ROLES = {
    "cooperative_admin": ("admin", "প্রশাসক", "quản trị", "ผู้ดูแลระบบ"),
    "branch_manager": ("manager", "শাখা ব্যবস্থাপক", "trưởng chi nhánh", "ผู้จัดการสาขา"),
    "accountant": ("হিসাবরক্ষক", "kế toán", "นักบัญชี", "สมุห์บัญชี"),
    "loan_officer": ("ঋণ কর্মকর্তা", "cán bộ tín dụng", "เจ้าหน้าที่สินเชื่อ"),
    "approver": ("অনুমোদনকারী", "người phê duyệt", "ผู้อนุมัติ"),
    "field_officer": ("মাঠকর্মী", "cán bộ hiện trường", "tổ trưởng", "เจ้าหน้าที่ภาคสนาม"),
    "auditor": ("নিরীক্ষক", "kiểm toán", "ผู้ตรวจสอบ"),
}
SAVINGS_KINDS = {
    "compulsory": (
        "mandatory",
        "বাধ্যতামূলক",
        "সাধারণ সঞ্চয়",
        "bắt buộc",
        "tiết kiệm bắt buộc",
        "ออมทรัพย์พิเศษ",
        "ออมบังคับ",
    ),
    "voluntary": ("ঐচ্ছিক", "স্বেচ্ছা", "tự nguyện", "tiết kiệm tự nguyện", "ออมทรัพย์"),
    "recurring": ("dps", "ডিপিএস", "gửi góp", "tiết kiệm gửi góp", "ออมรายเดือน", "เงินฝากประจำรายเดือน"),
    "fixed": (
        "fdr",
        "fixed deposit",
        "এফডিআর",
        "স্থায়ী আমানত",
        "có kỳ hạn",
        "tiền gửi có kỳ hạn",
        "ฝากประจำ",
        "เงินฝากประจำ",
    ),
}
ACCOUNT_STATUSES = {
    "active": ("open", "সক্রিয়", "চালু", "hoạt động", "đang mở", "ปกติ", "เปิด"),
    "matured": ("মেয়াদপূর্ণ", "đáo hạn", "ครบกำหนด"),
    "closed": ("বন্ধ", "đã đóng", "đóng", "ปิด", "ปิดบัญชี"),
}
INTEREST_METHODS = {
    "flat": ("flat rate", "ফ্ল্যাট", "সমহার", "lãi phẳng", "cố định", "คงที่", "อัตราคงที่"),
    "declining": ("declining balance", "reducing", "ক্রমহ্রাসমান", "dư nợ giảm dần", "giảm dần", "ลดต้นลดดอก"),
}
FREQUENCIES = {
    "weekly": ("সাপ্তাহিক", "hàng tuần", "tuần", "รายสัปดาห์"),
    "fortnightly": ("biweekly", "পাক্ষিক", "hai tuần", "2 tuần", "รายปักษ์", "ทุก 2 สัปดาห์"),
    "monthly": ("মাসিক", "hàng tháng", "tháng", "รายเดือน"),
    "once": ("one time", "bullet", "এককালীন", "một lần", "cuối kỳ", "ครั้งเดียว"),
}
CONTROL_ACCOUNTS = {
    "savings": ("savings control", "সঞ্চয়", "tiền gửi tiết kiệm", "tiết kiệm", "เงินรับฝาก"),
    "savings_interest": ("interest payable on savings", "সঞ্চয়ের সুদ প্রদেয়", "lãi phải trả", "ดอกเบี้ยค้างจ่าย"),
    "loans": ("loans receivable", "loan", "ঋণ", "ঋণ প্রদান", "cho vay", "dư nợ cho vay", "ลูกหนี้เงินกู้", "เงินให้กู้"),
    "shares": ("share capital", "শেয়ার মূলধন", "শেয়ার", "vốn cổ phần", "cổ phần", "ทุนเรือนหุ้น", "หุ้น"),
    "cash": ("cash in hand", "হাতে নগদ", "নগদ", "tiền mặt", "tiền mặt tại quỹ", "เงินสด", "เงินสดในมือ"),
}


def _branch_code(required: bool = True) -> Field:
    return _f(
        "branch_code",
        T.CODE,
        required,
        gettext_noop("The branch's code, as in the branches sheet."),
        ("Branch code", "শাখা কোড", "Mã chi nhánh", "รหัสสาขา"),
        "branch",
        "শাখা",
        "chi nhánh",
        "สาขา",
    )


def _member_no(description: str = gettext_noop("The member's number in the old records.")) -> Field:
    return _f(
        "member_no",
        T.CODE,
        True,
        description,
        ("Member no.", "সদস্য নং", "Số thành viên", "เลขทะเบียนสมาชิก"),
        "member number",
        "member id",
        "সদস্য নম্বর",
        "mã thành viên",
        "mã tv",
        "เลขสมาชิก",
        "รหัสสมาชิก",
    )


def _phone() -> Field:
    return _f(
        "phone",
        T.PHONE,
        False,
        gettext_noop("Mobile number; the country code may be left out."),
        ("Phone", "মোবাইল নম্বর", "Số điện thoại", "เบอร์โทรศัพท์"),
        "mobile",
        "phone number",
        "মোবাইল",
        "ফোন",
        "sđt",
        "điện thoại",
        "โทรศัพท์",
        "มือถือ",
    )


def _national_id() -> Field:
    return _f(
        "national_id",
        T.NATIONAL_ID,
        False,
        gettext_noop("National ID number (NID, CCCD/CMND, Thai ID card)."),
        ("National ID", "জাতীয় পরিচয়পত্র নং", "Số CCCD", "เลขประจำตัวประชาชน"),
        "nid",
        "national id number",
        "এনআইডি",
        "জাতীয় পরিচয়পত্র",
        "cccd",
        "cmnd",
        "số cmnd",
        "số cmnd/cccd",
        "เลขบัตรประชาชน",
    )


def _name(key: str, description: str, headers: tuple[str, str, str, str], *aliases: str) -> Field:
    return _f(key, T.NAME, True, description, headers, *aliases)


# --- The templates -------------------------------------------------------------------------------

BRANCHES = EntityTemplate(
    key="branches",
    title=gettext_noop("Branches"),
    fields=(
        _branch_code(),
        _name(
            "name", gettext_noop("The branch's name."), ("Branch name", "শাখার নাম", "Tên chi nhánh", "ชื่อสาขา")
        ),
        _f(
            "is_head_office",
            T.BOOL,
            False,
            gettext_noop("Yes for the head office (one only)."),
            ("Head office", "প্রধান কার্যালয়", "Trụ sở chính", "สำนักงานใหญ่"),
            "ho",
        ),
        _f(
            "region",
            T.NAME,
            False,
            gettext_noop("Region, when the cooperative groups branches by region."),
            ("Region", "অঞ্চল", "Khu vực", "ภูมิภาค"),
        ),
        _f("address", T.TEXT, False, gettext_noop("Postal address."), ("Address", "ঠিকানা", "Địa chỉ", "ที่อยู่")),
        _f(
            "opened_on",
            T.DATE,
            False,
            gettext_noop("The date the branch opened."),
            ("Opened on", "চালুর তারিখ", "Ngày thành lập", "วันที่เปิด"),
        ),
    ),
    examples={
        "en": (
            {
                "branch_code": "HO",
                "name": "Head office",
                "is_head_office": "yes",
                "region": "Dhaka",
                "address": "12 Mirpur Road, Dhaka",
                "opened_on": "01/07/2005",
            },
            {
                "branch_code": "SVR",
                "name": "Savar",
                "is_head_office": "no",
                "region": "Dhaka",
                "address": "Bazar Road, Savar",
                "opened_on": "2012-03-15",
            },
        ),
        "bn": (
            {
                "branch_code": "HO",
                "name": "প্রধান কার্যালয়",
                "is_head_office": "হ্যাঁ",
                "region": "ঢাকা",
                "address": "১২ মিরপুর রোড, ঢাকা",
                "opened_on": "০১/০৭/২০০৫",
            },
            {
                "branch_code": "SVR",
                "name": "সাভার",
                "is_head_office": "না",
                "region": "ঢাকা",
                "address": "বাজার রোড, সাভার",
                "opened_on": "১৫/০৩/২০১২",
            },
        ),
        "vi": (
            {
                "branch_code": "HO",
                "name": "Hội sở",
                "is_head_office": "có",
                "region": "Nghệ An",
                "address": "15 Lê Lợi, TP Vinh",
                "opened_on": "01/07/2005",
            },
            {
                "branch_code": "DL",
                "name": "Chi nhánh Đô Lương",
                "is_head_office": "không",
                "region": "Nghệ An",
                "address": "Thị trấn Đô Lương",
                "opened_on": "15/03/2012",
            },
        ),
        "th": (
            {
                "branch_code": "HO",
                "name": "สำนักงานใหญ่",
                "is_head_office": "ใช่",
                "region": "ภาคเหนือ",
                "address": "99 ถนนห้วยแก้ว เชียงใหม่",
                "opened_on": "01/07/2548",
            },
            {
                "branch_code": "LP",
                "name": "สาขาลำพูน",
                "is_head_office": "ไม่ใช่",
                "region": "ภาคเหนือ",
                "address": "ถนนอินทยงยศ ลำพูน",
                "opened_on": "15 มี.ค. 2555",
            },
        ),
    },
)

GROUPS = EntityTemplate(
    key="groups",
    title=gettext_noop("Groups"),
    fields=(
        _f(
            "group_code",
            T.CODE,
            True,
            gettext_noop("The group's code in the old records."),
            ("Group code", "সমিতি কোড", "Mã tổ", "รหัสกลุ่ม"),
            "samity code",
            "group",
            "mã nhóm",
        ),
        _branch_code(),
        _name(
            "name",
            gettext_noop("The group's name."),
            ("Group name", "সমিতির নাম", "Tên tổ", "ชื่อกลุ่ม"),
            "samity name",
            "দলের নাম",
            "tên nhóm",
        ),
        _f(
            "meeting_day",
            T.CHOICE,
            True,
            gettext_noop("The weekday the group meets; weekly loans fall due on it."),
            ("Meeting day", "সভার দিন", "Ngày họp", "วันประชุม"),
            choices=WEEKDAYS,
        ),
        _f(
            "meeting_place",
            T.TEXT,
            False,
            gettext_noop("Where the group meets."),
            ("Meeting place", "সভার স্থান", "Địa điểm họp", "สถานที่ประชุม"),
        ),
        _f(
            "leader_member_no",
            T.CODE,
            False,
            gettext_noop("The member number of the group's leader."),
            ("Leader member no.", "দলনেতার সদস্য নং", "Số thành viên tổ trưởng", "เลขสมาชิกหัวหน้ากลุ่ม"),
        ),
        _f(
            "field_officer_username",
            T.CODE,
            False,
            gettext_noop("The user name of the field officer (staff sheet)."),
            ("Field officer username", "মাঠকর্মীর ইউজারনেম", "Tên đăng nhập cán bộ", "ชื่อผู้ใช้เจ้าหน้าที่ภาคสนาม"),
            "field officer",
            "মাঠকর্মী",
            "cán bộ phụ trách",
            "เจ้าหน้าที่ภาคสนาม",
        ),
    ),
    examples={
        "en": (
            {
                "group_code": "G-001",
                "branch_code": "SVR",
                "name": "Padma women's group",
                "meeting_day": "Sunday",
                "meeting_place": "Primary school yard",
                "leader_member_no": "M-0001",
                "field_officer_username": "karim",
            },
        ),
        "bn": (
            {
                "group_code": "G-001",
                "branch_code": "SVR",
                "name": "পদ্মা মহিলা সমিতি",
                "meeting_day": "রবিবার",
                "meeting_place": "প্রাথমিক বিদ্যালয় মাঠ",
                "leader_member_no": "M-0001",
                "field_officer_username": "karim",
            },
        ),
        "vi": (
            {
                "group_code": "T-001",
                "branch_code": "DL",
                "name": "Tổ tiết kiệm và vay vốn xóm 3",
                "meeting_day": "Thứ hai",
                "meeting_place": "Nhà văn hóa xóm 3",
                "leader_member_no": "TV-0001",
                "field_officer_username": "hoa",
            },
        ),
        "th": (
            {
                "group_code": "K-001",
                "branch_code": "LP",
                "name": "กลุ่มออมทรัพย์บ้านสันป่าตอง",
                "meeting_day": "วันจันทร์",
                "meeting_place": "ศาลาหมู่บ้าน",
                "leader_member_no": "S-0001",
                "field_officer_username": "somchai",
            },
        ),
    },
)

STAFF = EntityTemplate(
    key="staff",
    title=gettext_noop("Staff users"),
    fields=(
        _f(
            "username",
            T.CODE,
            True,
            gettext_noop("The name the person signs in with; they are invited by e-mail to set a password."),
            ("Username", "ইউজারনেম", "Tên đăng nhập", "ชื่อผู้ใช้"),
            "login",
            "user",
        ),
        _name(
            "full_name",
            gettext_noop("The person's full name."),
            ("Full name", "পূর্ণ নাম", "Họ và tên", "ชื่อ-นามสกุล"),
            "name",
            "নাম",
            "họ tên",
            "ชื่อ",
        ),
        _f(
            "email",
            T.EMAIL,
            True,
            gettext_noop("Where the invitation is sent."),
            ("E-mail", "ইমেইল", "Email", "อีเมล"),
            "mail",
        ),
        _phone(),
        _branch_code(),
        _f(
            "roles",
            T.CODE_LIST,
            True,
            gettext_noop("One or more roles, separated by commas."),
            ("Roles", "ভূমিকা", "Vai trò", "บทบาท"),
            "role",
            "পদ",
            "chức vụ",
            "ตำแหน่ง",
            choices=ROLES,
        ),
        _f(
            "all_branches",
            T.BOOL,
            False,
            gettext_noop("Yes when the person works for every branch."),
            ("All branches", "সকল শাখা", "Tất cả chi nhánh", "ทุกสาขา"),
        ),
    ),
    examples={
        "en": (
            {
                "username": "karim",
                "full_name": "Abdul Karim",
                "email": "karim@example.org",
                "phone": "01711000010",
                "branch_code": "SVR",
                "roles": "field_officer",
                "all_branches": "no",
            },
            {
                "username": "nasrin",
                "full_name": "Nasrin Akter",
                "email": "nasrin@example.org",
                "phone": "",
                "branch_code": "HO",
                "roles": "accountant, approver",
                "all_branches": "yes",
            },
        ),
        "bn": (
            {
                "username": "karim",
                "full_name": "আব্দুল করিম",
                "email": "karim@example.org",
                "phone": "০১৭১১০০০০১০",
                "branch_code": "SVR",
                "roles": "মাঠকর্মী",
                "all_branches": "না",
            },
        ),
        "vi": (
            {
                "username": "hoa",
                "full_name": "Nguyễn Thị Hoa",
                "email": "hoa@example.org",
                "phone": "0912345678",
                "branch_code": "DL",
                "roles": "Cán bộ tín dụng, Kế toán",
                "all_branches": "không",
            },
        ),
        "th": (
            {
                "username": "somchai",
                "full_name": "สมชาย ใจดี",
                "email": "somchai@example.org",
                "phone": "0812345678",
                "branch_code": "LP",
                "roles": "เจ้าหน้าที่สินเชื่อ",
                "all_branches": "ไม่ใช่",
            },
        ),
    },
)

MEMBERS = EntityTemplate(
    key="members",
    title=gettext_noop("Members"),
    fields=(
        _member_no(),
        _f(
            "legacy_id",
            T.CODE,
            False,
            gettext_noop("Any other ID the old system gave the member."),
            ("Legacy ID", "পুরনো আইডি", "Mã cũ", "รหัสเดิม"),
            "old id",
            "customer id",
        ),
        _branch_code(),
        _f(
            "group_code",
            T.CODE,
            False,
            gettext_noop("The member's group, as in the groups sheet."),
            ("Group code", "সমিতি কোড", "Mã tổ", "รหัสกลุ่ม"),
            "samity code",
            "group",
            "mã nhóm",
        ),
        _name(
            "full_name",
            gettext_noop("The member's full name."),
            ("Full name", "পূর্ণ নাম", "Họ và tên", "ชื่อ-นามสกุล"),
            "name",
            "member name",
            "নাম",
            "সদস্যের নাম",
            "họ tên",
            "tên thành viên",
            "ชื่อ",
            "ชื่อสมาชิก",
        ),
        _f(
            "guardian_name",
            T.NAME,
            False,
            gettext_noop("Father's or husband's name."),
            ("Father's or husband's name", "পিতা/স্বামীর নাম", "Tên cha hoặc chồng", "ชื่อบิดาหรือสามี"),
            "father's name",
            "husband's name",
            "guardian",
            "পিতার নাম",
            "স্বামীর নাম",
        ),
        _f(
            "gender",
            T.CHOICE,
            False,
            gettext_noop("Female, male or other."),
            ("Gender", "লিঙ্গ", "Giới tính", "เพศ"),
            "sex",
            choices=GENDERS,
        ),
        _f(
            "date_of_birth",
            T.DATE,
            False,
            gettext_noop("Date of birth."),
            ("Date of birth", "জন্ম তারিখ", "Ngày sinh", "วันเกิด"),
            "dob",
            "birth date",
            "জন্মতারিখ",
            "วันเดือนปีเกิด",
        ),
        _national_id(),
        _phone(),
        _f("address", T.TEXT, False, gettext_noop("Address."), ("Address", "ঠিকানা", "Địa chỉ", "ที่อยู่")),
        _f(
            "join_date",
            T.DATE,
            True,
            gettext_noop("The date the person became a member (counts for loan eligibility)."),
            ("Join date", "ভর্তির তারিখ", "Ngày vào tổ", "วันที่เป็นสมาชิก"),
            "admission date",
            "joined",
            "সদস্য হওয়ার তারিখ",
            "ngày tham gia",
            "วันที่สมัคร",
        ),
        _f(
            "member_type",
            T.CODE,
            False,
            gettext_noop("The member type's code; the default type when empty."),
            ("Member type", "সদস্যের ধরন", "Loại thành viên", "ประเภทสมาชิก"),
        ),
        _f(
            "status",
            T.CHOICE,
            False,
            gettext_noop("Active (default), suspended from borrowing, or exited."),
            ("Status", "অবস্থা", "Trạng thái", "สถานะ"),
            choices=MEMBER_STATUSES,
        ),
        _f(
            "exit_date",
            T.DATE,
            False,
            gettext_noop("For an exited member, the date they left."),
            ("Exit date", "অব্যাহতির তারিখ", "Ngày ra khỏi tổ", "วันที่ลาออก"),
        ),
    ),
    examples={
        "en": (
            {
                "member_no": "M-0001",
                "legacy_id": "1001",
                "branch_code": "SVR",
                "group_code": "G-001",
                "full_name": "Rahima Khatun",
                "guardian_name": "Abdul Hakim",
                "gender": "female",
                "date_of_birth": "02/03/1985",
                "national_id": "1234567890",
                "phone": "01711000001",
                "address": "Village Ganakbari, Savar",
                "join_date": "15/01/2020",
                "member_type": "",
                "status": "active",
                "exit_date": "",
            },
            {
                "member_no": "M-0002",
                "legacy_id": "1002",
                "branch_code": "SVR",
                "group_code": "G-001",
                "full_name": "Fatema Begum",
                "guardian_name": "Jamal Uddin",
                "gender": "F",
                "date_of_birth": "1990-11-20",
                "national_id": "19901234567890123",
                "phone": "+8801811000002",
                "address": "",
                "join_date": "2021-06-01",
                "member_type": "",
                "status": "",
                "exit_date": "",
            },
        ),
        "bn": (
            {
                "member_no": "M-0001",
                "legacy_id": "১০০১",
                "branch_code": "SVR",
                "group_code": "G-001",
                "full_name": "রহিমা খাতুন",
                "guardian_name": "আব্দুল হাকিম",
                "gender": "মহিলা",
                "date_of_birth": "০২/০৩/১৯৮৫",
                "national_id": "১২৩৪৫৬৭৮৯০",
                "phone": "০১৭১১০০০০০১",
                "address": "গ্রাম গণকবাড়ি, সাভার",
                "join_date": "১৫/০১/২০২০",
                "member_type": "",
                "status": "সক্রিয়",
                "exit_date": "",
            },
        ),
        "vi": (
            {
                "member_no": "TV-0001",
                "legacy_id": "",
                "branch_code": "DL",
                "group_code": "T-001",
                "full_name": "Nguyễn Thị Hoa",
                "guardian_name": "Trần Văn Nam",
                "gender": "Nữ",
                "date_of_birth": "02/03/1985",
                "national_id": "040185001234",
                "phone": "0912345678",
                "address": "Xóm 3, xã Đà Sơn",
                "join_date": "15/01/2020",
                "member_type": "",
                "status": "Hoạt động",
                "exit_date": "",
            },
        ),
        "th": (
            {
                "member_no": "S-0001",
                "legacy_id": "",
                "branch_code": "LP",
                "group_code": "K-001",
                "full_name": "สมศรี ใจดี",
                "guardian_name": "",
                "gender": "หญิง",
                "date_of_birth": "02/03/2528",
                "national_id": "1101700203450",
                "phone": "0812345678",
                "address": "12 หมู่ 3 ต.บ้านกลาง อ.เมือง จ.ลำพูน",
                "join_date": "15 ม.ค. 2563",
                "member_type": "",
                "status": "ปกติ",
                "exit_date": "",
            },
        ),
    },
)

NOMINEES = EntityTemplate(
    key="nominees",
    title=gettext_noop("Nominees"),
    fields=(
        _member_no(gettext_noop("The number of the member who named this nominee.")),
        _name(
            "name",
            gettext_noop("The nominee's name."),
            ("Nominee name", "নমিনির নাম", "Tên người thừa kế", "ชื่อผู้รับผลประโยชน์"),
            "nominee",
            "নমিনি",
            "người thừa kế",
            "ผู้รับผลประโยชน์",
        ),
        _f(
            "relationship",
            T.TEXT,
            True,
            gettext_noop("The nominee's relationship to the member."),
            ("Relationship", "সম্পর্ক", "Quan hệ", "ความสัมพันธ์"),
            "relation",
        ),
        _f(
            "share_percent",
            T.DECIMAL,
            False,
            gettext_noop("The nominee's share in percent; the member's nominees add up to 100."),
            ("Share (%)", "অংশ (%)", "Tỷ lệ (%)", "สัดส่วน (%)"),
            "share",
            "percent",
        ),
        _phone(),
        _national_id(),
    ),
    examples={
        "en": (
            {
                "member_no": "M-0001",
                "name": "Salma Akter",
                "relationship": "Daughter",
                "share_percent": "100",
                "phone": "",
                "national_id": "",
            },
        ),
        "bn": (
            {
                "member_no": "M-0001",
                "name": "সালমা আক্তার",
                "relationship": "কন্যা",
                "share_percent": "১০০",
                "phone": "",
                "national_id": "",
            },
        ),
        "vi": (
            {
                "member_no": "TV-0001",
                "name": "Trần Thị Lan",
                "relationship": "Con gái",
                "share_percent": "100",
                "phone": "",
                "national_id": "",
            },
        ),
        "th": (
            {
                "member_no": "S-0001",
                "name": "สมใจ ใจดี",
                "relationship": "บุตรสาว",
                "share_percent": "100",
                "phone": "",
                "national_id": "",
            },
        ),
    },
)

SHARES = EntityTemplate(
    key="shares",
    title=gettext_noop("Share balances"),
    fields=(
        _member_no(),
        _f(
            "share_count",
            T.INTEGER,
            False,
            gettext_noop("Number of shares held."),
            ("Number of shares", "শেয়ার সংখ্যা", "Số cổ phần", "จำนวนหุ้น"),
            "shares",
        ),
        _f(
            "share_balance",
            T.AMOUNT,
            True,
            gettext_noop("The member's share capital at cut-over."),
            ("Share balance", "শেয়ার স্থিতি", "Số dư cổ phần", "ทุนเรือนหุ้น"),
            "share capital",
            "শেয়ার মূলধন",
            "vốn góp",
            "ยอดหุ้น",
            "มูลค่าหุ้น",
        ),
    ),
    examples={
        "en": ({"member_no": "M-0001", "share_count": "50", "share_balance": "5,000"},),
        "bn": ({"member_no": "M-0001", "share_count": "৫০", "share_balance": "৫,০০০"},),
        "vi": ({"member_no": "TV-0001", "share_count": "10", "share_balance": "1.000.000"},),
        "th": ({"member_no": "S-0001", "share_count": "120", "share_balance": "12,000.00"},),
    },
)

SAVINGS_ACCOUNTS = EntityTemplate(
    key="savings_accounts",
    title=gettext_noop("Savings accounts"),
    fields=(
        _f(
            "account_no",
            T.CODE,
            True,
            gettext_noop("The account's number in the old records."),
            ("Account no.", "হিসাব নং", "Số tài khoản", "เลขที่บัญชี"),
            "account number",
            "số sổ",
            "เลขบัญชี",
        ),
        _member_no(gettext_noop("The number of the member who owns the account.")),
        _f(
            "product_code",
            T.CODE,
            True,
            gettext_noop("The savings product's code in this workspace."),
            ("Product code", "প্রোডাক্ট কোড", "Mã sản phẩm", "รหัสผลิตภัณฑ์"),
            "product",
            "প্রোডাক্ট",
            "sản phẩm",
        ),
        _f(
            "kind",
            T.CHOICE,
            False,
            gettext_noop(
                "Compulsory, voluntary, recurring (DPS) or fixed (FDR); checked against the product."
            ),
            ("Savings type", "সঞ্চয়ের ধরন", "Loại tiết kiệm", "ประเภทเงินฝาก"),
            "type",
            choices=SAVINGS_KINDS,
        ),
        _f(
            "opened_on",
            T.DATE,
            True,
            gettext_noop("The date the account was opened."),
            ("Opened on", "হিসাব খোলার তারিখ", "Ngày mở", "วันที่เปิดบัญชี"),
            "open date",
        ),
        _f(
            "balance",
            T.AMOUNT,
            True,
            gettext_noop("The balance at cut-over."),
            ("Balance", "স্থিতি", "Số dư", "ยอดคงเหลือ"),
            "balance amount",
            "জমা",
            "số dư tiết kiệm",
            "ยอดเงินฝาก",
        ),
        _f(
            "accrued_interest",
            T.AMOUNT,
            False,
            gettext_noop("Interest earned but not yet credited, when the old system knows it."),
            ("Accrued interest", "অর্জিত সুদ", "Lãi dự chi", "ดอกเบี้ยค้างจ่าย"),
            "interest accrued",
        ),
        _f(
            "interest_rate",
            T.DECIMAL,
            False,
            gettext_noop("The account's yearly interest rate in percent, when not the product's."),
            ("Interest rate (%)", "সুদের হার (%)", "Lãi suất (%)", "อัตราดอกเบี้ย (%)"),
            "rate",
        ),
        _f(
            "instalment_amount",
            T.AMOUNT,
            False,
            gettext_noop("For a recurring deposit, the amount paid each period."),
            ("Instalment amount", "কিস্তির পরিমাণ", "Số tiền góp", "เงินงวด"),
        ),
        _f(
            "maturity_date",
            T.DATE,
            False,
            gettext_noop("For recurring and fixed deposits, the maturity date."),
            ("Maturity date", "মেয়াদপূর্তির তারিখ", "Ngày đáo hạn", "วันครบกำหนด"),
        ),
        _f(
            "status",
            T.CHOICE,
            False,
            gettext_noop("Active (default), matured or closed."),
            ("Status", "অবস্থা", "Trạng thái", "สถานะ"),
            choices=ACCOUNT_STATUSES,
        ),
    ),
    examples={
        "en": (
            {
                "account_no": "S-0001",
                "member_no": "M-0001",
                "product_code": "GS",
                "kind": "compulsory",
                "opened_on": "15/01/2020",
                "balance": "12,500.50",
                "accrued_interest": "85.25",
                "interest_rate": "6",
                "instalment_amount": "",
                "maturity_date": "",
                "status": "active",
            },
            {
                "account_no": "D-0001",
                "member_no": "M-0002",
                "product_code": "DPS5",
                "kind": "DPS",
                "opened_on": "2021-07-01",
                "balance": "1,00,000",
                "accrued_interest": "",
                "interest_rate": "8.5",
                "instalment_amount": "2,000",
                "maturity_date": "2026-06-30",
                "status": "",
            },
        ),
        "bn": (
            {
                "account_no": "S-0001",
                "member_no": "M-0001",
                "product_code": "GS",
                "kind": "বাধ্যতামূলক",
                "opened_on": "১৫/০১/২০২০",
                "balance": "১২,৫০০.৫০",
                "accrued_interest": "৮৫.২৫",
                "interest_rate": "৬",
                "instalment_amount": "",
                "maturity_date": "",
                "status": "সক্রিয়",
            },
        ),
        "vi": (
            {
                "account_no": "TK-0001",
                "member_no": "TV-0001",
                "product_code": "TKBB",
                "kind": "Bắt buộc",
                "opened_on": "15/01/2020",
                "balance": "2.500.000",
                "accrued_interest": "12.500",
                "interest_rate": "5,5",
                "instalment_amount": "",
                "maturity_date": "",
                "status": "Hoạt động",
            },
        ),
        "th": (
            {
                "account_no": "B-0001",
                "member_no": "S-0001",
                "product_code": "OS",
                "kind": "ออมทรัพย์",
                "opened_on": "15/01/2563",
                "balance": "25,300.75",
                "accrued_interest": "120.00",
                "interest_rate": "2.5",
                "instalment_amount": "",
                "maturity_date": "",
                "status": "ปกติ",
            },
        ),
    },
)

LOANS = EntityTemplate(
    key="loans",
    title=gettext_noop("Loans in progress"),
    fields=(
        _f(
            "loan_no",
            T.CODE,
            True,
            gettext_noop("The loan's number in the old records."),
            ("Loan no.", "ঋণ নং", "Số khế ước", "เลขที่สัญญา"),
            "loan number",
            "loan id",
            "số hợp đồng",
            "เลขที่สัญญาเงินกู้",
        ),
        _member_no(gettext_noop("The number of the borrowing member.")),
        _f(
            "product_code",
            T.CODE,
            True,
            gettext_noop("The loan product's code in this workspace."),
            ("Product code", "প্রোডাক্ট কোড", "Mã sản phẩm", "รหัสผลิตภัณฑ์"),
            "product",
            "প্রোডাক্ট",
            "sản phẩm",
        ),
        _f(
            "disbursed_on",
            T.DATE,
            True,
            gettext_noop("The date the loan was paid out."),
            ("Disbursed on", "বিতরণের তারিখ", "Ngày giải ngân", "วันที่จ่ายเงินกู้"),
            "disbursement date",
        ),
        _f(
            "disbursed_amount",
            T.AMOUNT,
            True,
            gettext_noop("The amount paid out."),
            ("Disbursed amount", "বিতরণকৃত ঋণ", "Số tiền giải ngân", "จำนวนเงินกู้"),
            "loan amount",
            "principal",
        ),
        _f(
            "interest_rate",
            T.DECIMAL,
            True,
            gettext_noop("Yearly interest rate in percent (the contract's)."),
            ("Interest rate (%)", "সুদের হার (%)", "Lãi suất (%)", "อัตราดอกเบี้ย (%)"),
            "rate",
        ),
        _f(
            "interest_method",
            T.CHOICE,
            False,
            gettext_noop("Flat or declining balance; the product's when empty."),
            ("Interest method", "সুদের পদ্ধতি", "Phương pháp tính lãi", "วิธีคิดดอกเบี้ย"),
            choices=INTEREST_METHODS,
        ),
        _f(
            "frequency",
            T.CHOICE,
            True,
            gettext_noop("Weekly, fortnightly, monthly or once."),
            ("Repayment frequency", "কিস্তির ধরন", "Kỳ trả nợ", "งวดชำระ"),
            "frequency",
            choices=FREQUENCIES,
        ),
        _f(
            "instalments",
            T.INTEGER,
            True,
            gettext_noop("The number of instalments in the contract."),
            ("Number of instalments", "কিস্তির সংখ্যা", "Số kỳ", "จำนวนงวด"),
            "term",
            "instalment count",
        ),
        _f(
            "first_due_on",
            T.DATE,
            False,
            gettext_noop("The due date of the first instalment."),
            ("First due date", "প্রথম কিস্তির তারিখ", "Ngày trả đầu tiên", "วันครบกำหนดงวดแรก"),
        ),
        _f(
            "principal_paid",
            T.AMOUNT,
            False,
            gettext_noop("Principal repaid so far (this or principal outstanding is required)."),
            ("Principal paid", "পরিশোধিত আসল", "Gốc đã trả", "เงินต้นที่ชำระแล้ว"),
        ),
        _f(
            "interest_paid",
            T.AMOUNT,
            False,
            gettext_noop("Interest paid so far."),
            ("Interest paid", "পরিশোধিত সুদ", "Lãi đã trả", "ดอกเบี้ยที่ชำระแล้ว"),
        ),
        _f(
            "principal_outstanding",
            T.AMOUNT,
            False,
            gettext_noop("Principal still owed at cut-over."),
            ("Principal outstanding", "বকেয়া আসল", "Dư nợ gốc", "เงินต้นคงเหลือ"),
            "outstanding",
            "balance",
        ),
        _f(
            "interest_outstanding",
            T.AMOUNT,
            False,
            gettext_noop("Interest due and not yet paid at cut-over."),
            ("Interest outstanding", "বকেয়া সুদ", "Lãi còn nợ", "ดอกเบี้ยค้างชำระ"),
        ),
        _f(
            "arrears",
            T.AMOUNT,
            False,
            gettext_noop("Amount overdue at cut-over (principal and interest)."),
            ("Arrears", "খেলাপি", "Nợ quá hạn", "ยอดค้างชำระ"),
            "overdue",
            "overdue amount",
        ),
        _f(
            "overdue_since",
            T.DATE,
            False,
            gettext_noop("The due date of the oldest unpaid instalment."),
            ("Overdue since", "খেলাপি শুরুর তারিখ", "Quá hạn từ ngày", "ค้างชำระตั้งแต่"),
        ),
        _f(
            "guarantors",
            T.CODE_LIST,
            False,
            gettext_noop("Member numbers of the guarantors, separated by commas."),
            ("Guarantor member nos.", "জামিনদারের সদস্য নং", "Số thành viên người bảo lãnh", "เลขสมาชิกผู้ค้ำประกัน"),
            "guarantors",
            "guarantor",
            "জামিনদার",
            "người bảo lãnh",
            "ผู้ค้ำประกัน",
        ),
        _f(
            "collateral",
            T.TEXT,
            False,
            gettext_noop("Collateral held, described."),
            ("Collateral", "জামানত", "Tài sản đảm bảo", "หลักประกัน"),
        ),
        _f(
            "collateral_value",
            T.AMOUNT,
            False,
            gettext_noop("The collateral's value."),
            ("Collateral value", "জামানতের মূল্য", "Giá trị tài sản đảm bảo", "มูลค่าหลักประกัน"),
        ),
    ),
    examples={
        "en": (
            {
                "loan_no": "L-0001",
                "member_no": "M-0001",
                "product_code": "GEN",
                "disbursed_on": "01/02/2024",
                "disbursed_amount": "1,00,000",
                "interest_rate": "12",
                "interest_method": "flat",
                "frequency": "weekly",
                "instalments": "46",
                "first_due_on": "11/02/2024",
                "principal_paid": "40,000",
                "interest_paid": "4,800",
                "principal_outstanding": "60,000",
                "interest_outstanding": "7,200",
                "arrears": "2,434",
                "overdue_since": "10/11/2024",
                "guarantors": "M-0002",
                "collateral": "",
                "collateral_value": "",
            },
        ),
        "bn": (
            {
                "loan_no": "L-0001",
                "member_no": "M-0001",
                "product_code": "GEN",
                "disbursed_on": "০১/০২/২০২৪",
                "disbursed_amount": "১,০০,০০০",
                "interest_rate": "১২",
                "interest_method": "ফ্ল্যাট",
                "frequency": "সাপ্তাহিক",
                "instalments": "৪৬",
                "first_due_on": "১১/০২/২০২৪",
                "principal_paid": "৪০,০০০",
                "interest_paid": "৪,৮০০",
                "principal_outstanding": "৬০,০০০",
                "interest_outstanding": "৭,২০০",
                "arrears": "",
                "overdue_since": "",
                "guarantors": "M-0002",
                "collateral": "",
                "collateral_value": "",
            },
        ),
        "vi": (
            {
                "loan_no": "KU-0001",
                "member_no": "TV-0001",
                "product_code": "HN",
                "disbursed_on": "01/02/2024",
                "disbursed_amount": "50.000.000",
                "interest_rate": "7,92",
                "interest_method": "Dư nợ giảm dần",
                "frequency": "Hàng tháng",
                "instalments": "36",
                "first_due_on": "01/03/2024",
                "principal_paid": "12.500.000",
                "interest_paid": "2.900.000",
                "principal_outstanding": "37.500.000",
                "interest_outstanding": "",
                "arrears": "",
                "overdue_since": "",
                "guarantors": "",
                "collateral": "Sổ đỏ thửa đất số 12",
                "collateral_value": "300.000.000",
            },
        ),
        "th": (
            {
                "loan_no": "G-0001",
                "member_no": "S-0001",
                "product_code": "SAMUN",
                "disbursed_on": "01/02/2567",
                "disbursed_amount": "200,000.00",
                "interest_rate": "6.5",
                "interest_method": "ลดต้นลดดอก",
                "frequency": "รายเดือน",
                "instalments": "60",
                "first_due_on": "1 มี.ค. 2567",
                "principal_paid": "30,000.00",
                "interest_paid": "9,750.00",
                "principal_outstanding": "170,000.00",
                "interest_outstanding": "",
                "arrears": "",
                "overdue_since": "",
                "guarantors": "",
                "collateral": "",
                "collateral_value": "",
            },
        ),
    },
)

TRIAL_BALANCE = EntityTemplate(
    key="trial_balance",
    title=gettext_noop("Opening trial balance"),
    fields=(
        _f(
            "account_code",
            T.CODE,
            True,
            gettext_noop("The account's code in this workspace's chart of accounts."),
            ("Account code", "হিসাব কোড", "Mã tài khoản", "รหัสบัญชี"),
            "gl code",
            "account",
            "số hiệu tài khoản",
        ),
        _f(
            "account_name",
            T.TEXT,
            False,
            gettext_noop("The account's name (for the reader; the code decides)."),
            ("Account name", "হিসাবের নাম", "Tên tài khoản", "ชื่อบัญชี"),
        ),
        _branch_code(required=False),
        _f(
            "debit",
            T.AMOUNT,
            False,
            gettext_noop("Debit balance at cut-over."),
            ("Debit", "ডেবিট", "Nợ", "เดบิต"),
            "dr",
        ),
        _f(
            "credit",
            T.AMOUNT,
            False,
            gettext_noop("Credit balance at cut-over."),
            ("Credit", "ক্রেডিট", "Có", "เครดิต"),
            "cr",
        ),
        _f(
            "control_of",
            T.CHOICE,
            False,
            gettext_noop(
                "For a control account, what it controls: savings, savings interest, loans, shares, "
                "or cash (posted to the branch's cash account)."
            ),
            ("Control account of", "নিয়ন্ত্রণ হিসাব", "Tài khoản kiểm soát", "บัญชีคุม"),
            "control",
            choices=CONTROL_ACCOUNTS,
        ),
    ),
    examples={
        "en": (
            {
                "account_code": "1010",
                "account_name": "Cash in hand",
                "branch_code": "",
                "debit": "20,000",
                "credit": "",
                "control_of": "",
            },
            {
                "account_code": "1300",
                "account_name": "Loans to members",
                "branch_code": "",
                "debit": "60,000",
                "credit": "",
                "control_of": "loans",
            },
            {
                "account_code": "2100",
                "account_name": "Members' savings",
                "branch_code": "",
                "debit": "",
                "credit": "75,000",
                "control_of": "savings",
            },
            {
                "account_code": "3100",
                "account_name": "Share capital",
                "branch_code": "",
                "debit": "",
                "credit": "5,000",
                "control_of": "shares",
            },
        ),
        "bn": (
            {
                "account_code": "1010",
                "account_name": "হাতে নগদ",
                "branch_code": "",
                "debit": "২০,০০০",
                "credit": "",
                "control_of": "",
            },
            {
                "account_code": "1300",
                "account_name": "সদস্যদের ঋণ",
                "branch_code": "",
                "debit": "৬০,০০০",
                "credit": "",
                "control_of": "ঋণ",
            },
            {
                "account_code": "2100",
                "account_name": "সদস্যদের সঞ্চয়",
                "branch_code": "",
                "debit": "",
                "credit": "৭৫,০০০",
                "control_of": "সঞ্চয়",
            },
            {
                "account_code": "3100",
                "account_name": "শেয়ার মূলধন",
                "branch_code": "",
                "debit": "",
                "credit": "৫,০০০",
                "control_of": "শেয়ার",
            },
        ),
        "vi": (
            {
                "account_code": "111",
                "account_name": "Tiền mặt",
                "branch_code": "",
                "debit": "1.000.000",
                "credit": "",
                "control_of": "",
            },
            {
                "account_code": "251",
                "account_name": "Cho vay thành viên",
                "branch_code": "",
                "debit": "37.500.000",
                "credit": "",
                "control_of": "Cho vay",
            },
            {
                "account_code": "421",
                "account_name": "Tiền gửi tiết kiệm",
                "branch_code": "",
                "debit": "",
                "credit": "37.500.000",
                "control_of": "Tiết kiệm",
            },
            {
                "account_code": "411",
                "account_name": "Vốn góp",
                "branch_code": "",
                "debit": "",
                "credit": "1.000.000",
                "control_of": "Vốn cổ phần",
            },
        ),
        "th": (
            {
                "account_code": "1101",
                "account_name": "เงินสด",
                "branch_code": "",
                "debit": "10,000.00",
                "credit": "",
                "control_of": "",
            },
            {
                "account_code": "1201",
                "account_name": "เงินให้กู้แก่สมาชิก",
                "branch_code": "",
                "debit": "170,000.00",
                "credit": "",
                "control_of": "ลูกหนี้เงินกู้",
            },
            {
                "account_code": "2101",
                "account_name": "เงินรับฝากออมทรัพย์",
                "branch_code": "",
                "debit": "",
                "credit": "168,000.00",
                "control_of": "เงินรับฝาก",
            },
            {
                "account_code": "3101",
                "account_name": "ทุนเรือนหุ้น",
                "branch_code": "",
                "debit": "",
                "credit": "12,000.00",
                "control_of": "ทุนเรือนหุ้น",
            },
        ),
    },
)

TEMPLATES: dict[str, EntityTemplate] = {
    template.key: template
    for template in (
        BRANCHES,
        GROUPS,
        STAFF,
        MEMBERS,
        NOMINEES,
        SHARES,
        SAVINGS_ACCOUNTS,
        LOANS,
        TRIAL_BALANCE,
    )
}

# Headers that must never be read, whatever the mapping says: staff are invited, never given a
# password from an old system.
FORBIDDEN_HEADERS = frozenset(
    header_key(header) for header in ("password", "passwd", "pwd", "pin", "পাসওয়ার্ড", "mật khẩu", "รหัสผ่าน")
)


# --- Writing templates ---------------------------------------------------------------------------


def _header_row(template: EntityTemplate, language: str, *, mark_required: bool = True) -> list[str]:
    return [
        item.header(language) + (" *" if mark_required and item.required else "") for item in template.fields
    ]


def _example_cells(template: EntityTemplate, language: str) -> Iterable[list[str]]:
    for row in template.example_rows(language):
        yield [row.get(item.key, "") for item in template.fields]


def write_xlsx_template(
    template: EntityTemplate,
    out: IO[bytes],
    *,
    language: str = "en",
    translate: Mapping[str, str] | None = None,
    with_examples: bool = True,
) -> None:
    """A workbook with the entity's sheet (headers in ``language``, required ones marked with *,
    example rows) and a "Fields" sheet describing each column. ``translate`` maps the English
    descriptions to the reader's language when the caller has them."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    translated = translate or {}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=template.key)
    bold = Font(bold=True)
    header_cells = []
    for text in _header_row(template, language):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    if with_examples:
        for cells in _example_cells(template, language):
            # Written as text, so "01/07/2005" and "1,00,000" reach the reader as the example shows them.
            sheet.append(cells)
    guide = book.create_sheet(title=gettext_noop("Fields"))
    guide.append(["column", "field", "required", "type", "description"])
    for item in template.fields:
        guide.append(
            [
                item.header(language),
                item.key,
                "*" if item.required else "",
                item.type.value,
                translated.get(item.description, item.description),
            ]
        )
    book.save(out)


def write_csv_template(
    template: EntityTemplate, out: IO[bytes], *, language: str = "en", with_examples: bool = True
) -> None:
    """The same sheet as CSV, UTF-8 with a BOM so that Excel shows Bangla, Thai and Vietnamese."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(_header_row(template, language))
    if with_examples:
        writer.writerows(_example_cells(template, language))
    out.write(text.getvalue().encode("utf-8-sig"))
