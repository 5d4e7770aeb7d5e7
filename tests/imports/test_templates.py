"""Templates per entity: headers in four languages, downloadable, and their examples valid as written."""

from __future__ import annotations

import io

import pytest

from imports.engine.reader import XlsxWorkbook, open_table
from imports.engine.templates import (
    LANGUAGES,
    LOCALE_DEFAULTS,
    TEMPLATES,
    write_csv_template,
    write_xlsx_template,
)
from imports.engine.text import header_key
from imports.engine.validate import ERROR, DryRun, ImportSettings

CASES = [(entity, language) for entity in TEMPLATES for language in LANGUAGES]


def settings_for(language: str) -> ImportSettings:
    defaults = LOCALE_DEFAULTS[language]
    return ImportSettings(country=defaults.country, currency=defaults.currency, dates=defaults.dates)


def test_every_template_has_headers_in_four_languages_and_examples():
    for template in TEMPLATES.values():
        for item in template.fields:
            assert set(item.headers) == set(LANGUAGES), (template.key, item.key)
            assert all(item.headers.values())
        for language in LANGUAGES:
            for row in template.examples[language]:
                assert set(row) == {item.key for item in template.fields}, (template.key, language)


def test_no_header_or_alias_is_claimed_by_two_fields_of_one_template():
    for template in TEMPLATES.values():
        claimed: dict[str, str] = {}
        for item in template.fields:
            for header in (item.key, *item.headers.values(), *item.aliases):
                owner = claimed.setdefault(header_key(header), item.key)
                assert owner == item.key, (template.key, header, owner, item.key)


@pytest.mark.parametrize(("entity", "language"), CASES)
def test_xlsx_template_round_trip(entity, language):  # type: ignore[no-untyped-def]
    template = TEMPLATES[entity]
    out = io.BytesIO()
    write_xlsx_template(template, out, language=language)
    workbook = XlsxWorkbook(out.getvalue())
    assert workbook.sheet_names == [entity, "Fields"]
    table = workbook.table(template)
    assert table.headers.ok
    assert table.headers.unknown == []
    assert [column.field for column in table.headers.columns] == [item.key for item in template.fields]
    rows = list(table.rows())
    assert [number for number, _values in rows] == list(range(2, 2 + len(template.examples[language])))
    run = DryRun(settings_for(language))
    result = run.add_file(entity, rows, table.headers)
    assert [issue for issue in run.issues if issue.severity == ERROR] == []
    assert result.valid == len(template.examples[language])


@pytest.mark.parametrize(("entity", "language"), CASES)
def test_csv_template_round_trip(entity, language):  # type: ignore[no-untyped-def]
    template = TEMPLATES[entity]
    out = io.BytesIO()
    write_csv_template(template, out, language=language)
    assert out.getvalue().startswith(b"\xef\xbb\xbf")
    table = open_table(out.getvalue(), template)
    assert table.encoding == "utf-8"
    run = DryRun(settings_for(language))
    result = run.add_file(entity, table.rows(), table.headers)
    assert [issue for issue in run.issues if issue.severity == ERROR] == []
    assert result.valid == len(template.examples[language])


def test_example_values_are_typed():
    out = io.BytesIO()
    write_xlsx_template(TEMPLATES["loans"], out, language="bn")
    table = open_table(out.getvalue(), "loans")
    run = DryRun(settings_for("bn"))
    result = run.add_file("loans", table.rows(), table.headers)
    values = result.records[0].values
    assert values["disbursed_amount"] == 10_000_000  # ১,০০,০০০ taka in paisa
    assert values["principal_outstanding"] == 6_000_000
    assert values["frequency"] == "weekly"
    assert values["interest_method"] == "flat"
    assert values["instalments"] == 46
    assert str(values["disbursed_on"]) == "2024-02-01"


def test_thai_template_dates_are_buddhist_era():
    out = io.BytesIO()
    write_csv_template(TEMPLATES["members"], out, language="th")
    table = open_table(out.getvalue(), "members")
    run = DryRun(settings_for("th"))
    values = run.add_file("members", table.rows(), table.headers).records[0].values
    assert str(values["join_date"]) == "2020-01-15"  # 15 ม.ค. 2563
    assert str(values["date_of_birth"]) == "1985-03-02"  # 02/03/2528
    assert values["gender"] == "female"
    assert values["phone"] == "+66812345678"


def test_fields_sheet_describes_every_column():
    out = io.BytesIO()
    write_xlsx_template(TEMPLATES["members"], out, language="vi", translate={"Date of birth.": "Ngày sinh."})
    workbook = XlsxWorkbook(out.getvalue())
    rows = list(workbook.rows("Fields"))
    assert rows[0] == ["column", "field", "required", "type", "description"]
    by_field = {row[1]: row for row in rows[1:]}
    assert by_field["member_no"][0] == "Số thành viên"
    assert by_field["member_no"][2] == "*"
    assert by_field["date_of_birth"][4] == "Ngày sinh."
    assert len(by_field) == len(TEMPLATES["members"].fields)
