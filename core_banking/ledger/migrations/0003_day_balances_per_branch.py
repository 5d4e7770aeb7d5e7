"""Daily balances per account *and branch*, so reports consolidate any set of branches.

Also moves the closed-period check of entries to one check per INSERT statement, and the
balance check of lines from one deferred trigger per line to one check per
INSERT statement (a transition table): every statement that adds lines re-checks the entries it
touched, at once. An entry's lines are therefore written in one statement (journal_post and the
batch path do). The deferred per-entry trigger stays and re-checks each entry at COMMIT, which
also catches an entry written without any lines. Same guarantees, a fraction of the trigger work
when thousands of entries land in one transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

REBUILD_DAY_BALANCES = """
DELETE FROM ledger_accountdaybalance;
INSERT INTO ledger_accountdaybalance (account_id, branch_id, day, debit_minor, credit_minor)
SELECT l.account_id, e.branch_id, e.value_date, SUM(l.debit_minor), SUM(l.credit_minor)
FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
GROUP BY l.account_id, e.branch_id, e.value_date;
"""

STATEMENT_LEVEL_LINE_CHECK = """
DROP TRIGGER ledger_line_balances ON ledger_journalline;
DROP FUNCTION ledger_line_inserted();

-- One index probe per touched entry (LATERAL): a plain IN (...) GROUP BY let the planner scan
-- every line of the journal, which grew the cost of each posting with the journal's size.
CREATE FUNCTION ledger_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER ledger_lines_balance AFTER INSERT ON ledger_journalline
    REFERENCING NEW TABLE AS inserted_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_lines_inserted();

-- Closed periods, checked once per INSERT statement rather than once per entry row.
DROP TRIGGER ledger_entry_open_period ON ledger_journalentry;
DROP FUNCTION ledger_entry_in_open_period();
CREATE FUNCTION ledger_entries_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER ledger_entries_open_period AFTER INSERT ON ledger_journalentry
    REFERENCING NEW TABLE AS inserted_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_in_open_period();

-- The deferred per-entry check, with one dynamic statement instead of two nested ones.
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

ROW_LEVEL_LINE_CHECK = """
DROP TRIGGER ledger_entries_open_period ON ledger_journalentry;
DROP FUNCTION ledger_entries_in_open_period();
CREATE FUNCTION ledger_entry_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed boolean;
BEGIN
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %I.ledger_ledgerstate '
        'WHERE closed_through IS NOT NULL AND $1 <= closed_through)', TG_TABLE_SCHEMA)
      INTO closed USING NEW.value_date;
    IF closed THEN
        RAISE EXCEPTION 'the books are closed for %', NEW.value_date USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_in_open_period();
CREATE OR REPLACE FUNCTION ledger_entry_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %I.ledger_check_entry_balances($1, $2)', TG_TABLE_SCHEMA)
        USING TG_TABLE_SCHEMA, NEW.id;
    RETURN NULL;
END;
$$;
DROP TRIGGER ledger_lines_balance ON ledger_journalline;
DROP FUNCTION ledger_lines_inserted();
CREATE FUNCTION ledger_line_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %I.ledger_check_entry_balances($1, $2)', TG_TABLE_SCHEMA)
        USING TG_TABLE_SCHEMA, NEW.entry_id;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER ledger_line_balances
    AFTER INSERT ON ledger_journalline DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_line_inserted();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_double_entry_in_postgresql"), ("organisation", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="accountdaybalance", name="one_balance_per_account_day"),
        migrations.AddField(
            model_name="accountdaybalance",
            name="branch",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="day_balances",
                to="organisation.branch",
            ),
        ),
        migrations.RunSQL(REBUILD_DAY_BALANCES, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="accountdaybalance",
            name="branch",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="day_balances",
                to="organisation.branch",
            ),
        ),
        migrations.AddConstraint(
            model_name="accountdaybalance",
            constraint=models.UniqueConstraint(
                fields=("account", "branch", "day"), name="one_balance_per_account_branch_day"
            ),
        ),
        migrations.AddIndex(
            model_name="accountdaybalance",
            index=models.Index(fields=["day", "branch", "account"], name="day_balance_by_day"),
        ),
        migrations.RunSQL(STATEMENT_LEVEL_LINE_CHECK, ROW_LEVEL_LINE_CHECK),
    ]
