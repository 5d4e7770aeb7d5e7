"""The import engine: plain Python, no Django.

- ``text``: bytes to text (BOM, UTF-8, UTF-16 with or without BOM, Windows code pages), NFC,
  digits of any script to 0-9.
- ``bijoy``: Bangla typed in Bijoy (SutonnyMJ) to Unicode, and spotting such text.
- ``values``: dates (Buddhist era too), amounts to integer minor units, phones, IDs, yes/no.
- ``templates``: the template of each entity, headers in en/bn/vi/th, downloadable XLSX/CSV.
- ``reader``: CSV/XLSX rows keyed by field, by header aliases or a saved mapping profile.
- ``validate``: typed records and issues per row, in-file cross-row checks, reconciliation.
- ``report``: the dry run's issues and reconciliation as a spreadsheet.
- ``sample``: a generated legacy workbook for tests, demos and benchmarks.

A dry run streams rows through these without a database; the workspace's own data is checked
afterwards with set lookups by the caller (``DryRun.check_references``).
"""
