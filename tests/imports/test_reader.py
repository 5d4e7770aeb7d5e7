"""Reading CSV and XLSX: delimiters, header rows, unknown and missing columns, mapping profiles."""

from __future__ import annotations

import codecs
import datetime as dt
import io

import pytest

from imports.engine.reader import MappingProfile, ReadError, XlsxWorkbook, detect_template, open_table
from imports.engine.sample import write_sample
from imports.engine.templates import TEMPLATES
from tests.imports.test_text import to_cp1258

MEMBERS_CSV = (
    "Member no.,Branch code,Full name,Join date\n"
    "M-1,HO,Rahima Khatun,15/01/2020\n"
    'M-2,HO,"Karim, Abdul",2021-06-01\n'
)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter):  # type: ignore[no-untyped-def]
    text = (
        MEMBERS_CSV.replace(",", "\x00")
        .replace('"Karim\x00 Abdul"', '"Karim, Abdul"')
        .replace("\x00", delimiter)
    )
    table = open_table(text.encode(), "members")
    assert table.headers.missing_required == []
    rows = list(table.rows())
    assert rows == [
        (
            2,
            {
                "member_no": "M-1",
                "branch_code": "HO",
                "full_name": "Rahima Khatun",
                "join_date": "15/01/2020",
            },
        ),
        (
            3,
            {"member_no": "M-2", "branch_code": "HO", "full_name": "Karim, Abdul", "join_date": "2021-06-01"},
        ),
    ]


def test_utf16_csv_from_excel_unicode_text():
    text = (
        MEMBERS_CSV.replace(",", "\t")
        .replace('"Karim\t Abdul"', "Karim Abdul")
        .replace("Rahima Khatun", "রহিমা খাতুন")
    )
    table = open_table(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "members")
    assert table.encoding == "utf-16-le"
    assert [values["full_name"] for _row, values in table.rows()] == ["রহিমা খাতুন", "Karim Abdul"]


def test_title_lines_above_the_header_and_empty_rows_keep_row_numbers():
    text = (
        "Member list,,,\nPrinted 2025-12-31,,,\n,,,\n"
        + MEMBERS_CSV.replace('"Karim, Abdul"', "Karim")
        + ",,,\nM-3,HO,Salma,2022-01-01\n"
    )
    table = open_table(text.encode(), "members")
    assert table.headers.header_row == 4
    assert [row for row, _values in table.rows()] == [5, 6, 8]


def test_headers_in_any_language_and_alias():
    text = "সদস্য নং,শাখা কোড,Họ và tên,วันที่เป็นสมาชิก,Mobile,NID,Samity code\nM-1,HO,X,2020-01-01,017,1,G\n"
    table = open_table(text.encode(), "members")
    assert table.headers.ok
    assert [column.field for column in table.headers.columns] == [
        "member_no",
        "branch_code",
        "full_name",
        "join_date",
        "phone",
        "national_id",
        "group_code",
    ]


def test_unknown_missing_duplicated_and_forbidden_columns_are_reported():
    text = "Member no.,Full name,Name,Favourite colour,Password\nM-1,A,B,red,secret\n"
    table = open_table(text.encode(), "members")
    headers = table.headers
    assert headers.unknown == ["Favourite colour"]
    assert headers.missing_required == ["branch_code", "join_date"]
    assert headers.duplicated == ["full_name"]
    assert headers.forbidden == ["Password"]
    assert not headers.ok
    # The password column is never read, whatever else happens.
    assert all("secret" not in values.values() for _row, values in table.rows())


def test_staff_password_column_never_reaches_a_record():
    text = (
        "Username,Full name,E-mail,Branch code,Roles,Password\n"
        "karim,Abdul Karim,k@example.org,HO,accountant,hunter2\n"
    )
    table = open_table(text.encode(), "staff")
    assert table.headers.ok
    assert table.headers.forbidden == ["Password"]
    assert list(table.rows()) == [
        (
            2,
            {
                "username": "karim",
                "full_name": "Abdul Karim",
                "email": "k@example.org",
                "branch_code": "HO",
                "roles": "accountant",
            },
        ),
    ]


def test_a_saved_mapping_profile_reads_any_export():
    export = "CUST_NO;CUST_NAME;BR;ADM_DT;REMARKS;OLD_FLAG\n0001;Rahima;01;15.01.2020;ok;x\n"
    profile = MappingProfile(
        columns={
            "cust_no": "member_no",
            "Cust Name": "full_name",
            "BR": "branch_code",
            "ADM_DT": "join_date",
            "OLD_FLAG": "",
        },
        delimiter=";",
    )
    table = open_table(export.encode(), "members", profile=profile)
    assert table.headers.ok
    assert table.headers.unknown == ["REMARKS"]  # OLD_FLAG is ignored on purpose, so not reported
    assert table.headers.mapped == {
        "CUST_NO": "member_no",
        "CUST_NAME": "full_name",
        "BR": "branch_code",
        "ADM_DT": "join_date",
    }
    assert list(table.rows()) == [
        (2, {"member_no": "0001", "full_name": "Rahima", "branch_code": "01", "join_date": "15.01.2020"})
    ]


def test_a_profile_naming_a_field_the_template_lacks_is_refused():
    with pytest.raises(ReadError) as caught:
        open_table(b"A,B\n1,2\n", "members", profile=MappingProfile(columns={"A": "shoe_size"}))
    assert caught.value.code == "profile_field_unknown"


def test_profile_encoding_and_header_row_win():
    text = "x;y\nMember no.;Full name\nM-1;Trần Văn Đức\n"
    profile = MappingProfile(
        columns={"Member no.": "member_no", "Full name": "full_name"}, encoding="cp1258", header_row=2
    )
    table = open_table(to_cp1258(text), "members", profile=profile)
    assert table.encoding == "cp1258"
    assert table.headers.header_row == 2
    assert list(table.rows()) == [(3, {"member_no": "M-1", "full_name": "Trần Văn Đức"})]
    with pytest.raises(ReadError) as caught:  # the same bytes are not UTF-8
        open_table(to_cp1258(text), "members", profile=MappingProfile(columns={}, encoding="utf-8"))
    assert caught.value.code == "encoding_unknown"


def test_files_that_are_not_csv_or_xlsx():
    with pytest.raises(ReadError) as caught:
        open_table(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "members")
    assert caught.value.code == "file_kind"
    with pytest.raises(ReadError) as caught:
        open_table(b"\n\n", "members")
    assert caught.value.code == "file_empty"


def test_calamine_and_openpyxl_read_the_same_rows():
    out = io.BytesIO()
    write_sample(out, members=60, bad_rows=6, bijoy_share=0.5)
    data = out.getvalue()
    fast, slow = XlsxWorkbook(data), XlsxWorkbook(data, engine="openpyxl")
    assert fast.sheet_names == slow.sheet_names
    for entity in ("members", "savings_accounts", "loans", "trial_balance"):
        fast_rows = list(fast.table(entity).rows())
        slow_rows = list(slow.table(entity).rows())
        assert len(fast_rows) == len(slow_rows) > 0
        for (fast_number, fast_values), (slow_number, slow_values) in zip(fast_rows, slow_rows, strict=True):
            assert fast_number == slow_number
            for key, value in slow_values.items():
                other = fast_values[key]
                if value is None:
                    assert other in (None, ""), (entity, key)
                elif isinstance(value, dt.datetime):
                    assert other in (value, value.date()), (entity, key)
                else:
                    assert other == value, (entity, key)
    fast.close()
    slow.close()


def test_detect_template_from_headers():
    assert detect_template(["Loan no.", "Member no.", "Disbursed amount", "Product code"]) == "loans"
    assert detect_template(["Số tài khoản", "Số thành viên", "Số dư"]) == "savings_accounts"
    assert detect_template(["รหัสบัญชี", "เดบิต", "เครดิต"]) == "trial_balance"
    assert detect_template(["nothing", "known"]) is None


def test_sheet_chosen_by_entity_name_or_profile():
    out = io.BytesIO()
    write_sample(out, members=30)
    workbook = XlsxWorkbook(out.getvalue())
    assert workbook.table("loans").sheet == "loans"
    assert (
        workbook.table(TEMPLATES["members"], profile=MappingProfile(columns={}, sheet="members")).sheet
        == "members"
    )
    with pytest.raises(ReadError) as caught:
        workbook.table("members", sheet="nope")
    assert caught.value.code == "sheet_missing"
