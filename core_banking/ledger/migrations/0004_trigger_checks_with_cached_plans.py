"""The ledger's checks run with cached plans when the posting is made in the table's own workspace.

The checks of 0003 build their statements with ``format(... %I ..., TG_TABLE_SCHEMA)`` so that they
always read the workspace the row was written to, whatever ``search_path`` says; PostgreSQL then
parses and plans each of them on every posting (about 0.4 ms of a teller's deposit). When the
table's schema is the current schema (``current_schema()``: the first schema of ``search_path``,
as it is for every posting the product makes), unqualified names resolve to that workspace's own
tables, so a static statement reads exactly the same rows, and PL/pgSQL keeps its plan
(PostgreSQL re-plans a cached statement when ``search_path`` changes). Anything else — a write
into another schema by qualified name, a deferred check firing after the connection moved to
another workspace — still takes the schema-qualified dynamic statement. Same checks, same errors.
"""

from django.db import migrations

CACHED_PLAN_CHECKS = """
CREATE OR REPLACE FUNCTION ledger_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    IF TG_TABLE_SCHEMA = current_schema() THEN
        SELECT touched.entry_id, totals.debit, totals.credit, totals.lines INTO unbalanced
        FROM (SELECT DISTINCT entry_id FROM inserted_lines) AS touched CROSS JOIN LATERAL (
            SELECT SUM(l.debit_minor) AS debit, SUM(l.credit_minor) AS credit, COUNT(*) AS lines
            FROM ledger_journalline l WHERE l.entry_id = touched.entry_id) AS totals
        WHERE totals.lines < 2 OR totals.debit <> totals.credit LIMIT 1;
    ELSE
        EXECUTE format(
            'SELECT touched.entry_id, totals.debit, totals.credit, totals.lines '
            'FROM (SELECT DISTINCT entry_id FROM inserted_lines) AS touched CROSS JOIN LATERAL ('
            '  SELECT SUM(l.debit_minor) AS debit, SUM(l.credit_minor) AS credit, COUNT(*) AS lines '
            '  FROM %I.ledger_journalline l WHERE l.entry_id = touched.entry_id) AS totals '
            'WHERE totals.lines < 2 OR totals.debit <> totals.credit LIMIT 1',
            TG_TABLE_SCHEMA)
          INTO unbalanced;
    END IF;
    IF unbalanced.entry_id IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
            unbalanced.entry_id, unbalanced.debit, unbalanced.credit, unbalanced.lines
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entries_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    too_early date;
BEGIN
    IF TG_TABLE_SCHEMA = current_schema() THEN
        SELECT MIN(e.value_date) INTO too_early FROM inserted_entries e, ledger_ledgerstate s
        WHERE s.closed_through IS NOT NULL AND e.value_date <= s.closed_through;
    ELSE
        EXECUTE format(
            'SELECT MIN(e.value_date) FROM inserted_entries e, %I.ledger_ledgerstate s '
            'WHERE s.closed_through IS NOT NULL AND e.value_date <= s.closed_through', TG_TABLE_SCHEMA)
          INTO too_early;
    END IF;
    IF too_early IS NOT NULL THEN
        RAISE EXCEPTION 'the books are closed for %', too_early USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entry_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total_debit bigint;
    total_credit bigint;
    line_count integer;
BEGIN
    IF TG_TABLE_SCHEMA = current_schema() THEN
        SELECT COALESCE(SUM(debit_minor), 0), COALESCE(SUM(credit_minor), 0), COUNT(*)
          INTO total_debit, total_credit, line_count
          FROM ledger_journalline WHERE entry_id = NEW.id;
    ELSE
        EXECUTE format(
            'SELECT COALESCE(SUM(debit_minor), 0), COALESCE(SUM(credit_minor), 0), COUNT(*) '
            'FROM %I.ledger_journalline WHERE entry_id = $1', TG_TABLE_SCHEMA)
          INTO total_debit, total_credit, line_count
          USING NEW.id;
    END IF;
    IF line_count < 2 OR total_debit <> total_credit THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
            NEW.id, total_debit, total_credit, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""

DYNAMIC_CHECKS = """
CREATE OR REPLACE FUNCTION ledger_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    EXECUTE format(
        'SELECT touched.entry_id, totals.debit, totals.credit, totals.lines '
        'FROM (SELECT DISTINCT entry_id FROM inserted_lines) AS touched CROSS JOIN LATERAL ('
        '  SELECT SUM(l.debit_minor) AS debit, SUM(l.credit_minor) AS credit, COUNT(*) AS lines '
        '  FROM %I.ledger_journalline l WHERE l.entry_id = touched.entry_id) AS totals '
        'WHERE totals.lines < 2 OR totals.debit <> totals.credit LIMIT 1',
        TG_TABLE_SCHEMA)
      INTO unbalanced;
    IF unbalanced.entry_id IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
            unbalanced.entry_id, unbalanced.debit, unbalanced.credit, unbalanced.lines
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entries_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    too_early date;
BEGIN
    EXECUTE format(
        'SELECT MIN(e.value_date) FROM inserted_entries e, %I.ledger_ledgerstate s '
        'WHERE s.closed_through IS NOT NULL AND e.value_date <= s.closed_through', TG_TABLE_SCHEMA)
      INTO too_early;
    IF too_early IS NOT NULL THEN
        RAISE EXCEPTION 'the books are closed for %', too_early USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entry_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total_debit bigint;
    total_credit bigint;
    line_count integer;
BEGIN
    EXECUTE format(
        'SELECT COALESCE(SUM(debit_minor), 0), COALESCE(SUM(credit_minor), 0), COUNT(*) '
        'FROM %I.ledger_journalline WHERE entry_id = $1', TG_TABLE_SCHEMA)
      INTO total_debit, total_credit, line_count
      USING NEW.id;
    IF line_count < 2 OR total_debit <> total_credit THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
            NEW.id, total_debit, total_credit, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_day_balances_per_branch")]

    operations = [migrations.RunSQL(CACHED_PLAN_CHECKS, DYNAMIC_CHECKS)]
