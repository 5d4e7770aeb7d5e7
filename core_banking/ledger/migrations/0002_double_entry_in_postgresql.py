"""Double entry enforced by PostgreSQL, not only by Python.

- An entry's lines must balance, and an entry needs two lines or more: deferred constraint
  triggers check it when the transaction commits, after every line is in.
- Posted entries and lines cannot be updated, deleted or truncated.
- No entry may be dated on or before the day the books are closed through.
- The ledger's single state row (chain head, closed-through date) exists from the start.
"""

from django.db import migrations

FORWARD = """
-- Trigger functions name their tables through TG_TABLE_SCHEMA, never through search_path: a
-- deferred trigger fires at COMMIT, whatever search_path the session has by then, and each
-- workspace schema carries its own copy of these functions.
CREATE FUNCTION ledger_check_entry_balances(ledger_schema text, checked_entry_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    total_debit bigint;
    total_credit bigint;
    line_count integer;
BEGIN
    EXECUTE format(
        'SELECT COALESCE(SUM(debit_minor), 0), COALESCE(SUM(credit_minor), 0), COUNT(*) '
        'FROM %I.ledger_journalline WHERE entry_id = $1', ledger_schema)
      INTO total_debit, total_credit, line_count
      USING checked_entry_id;
    IF line_count < 2 OR total_debit <> total_credit THEN
        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
            checked_entry_id, total_debit, total_credit, line_count
            USING ERRCODE = 'check_violation';
    END IF;
END;
$$;

CREATE FUNCTION ledger_line_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %I.ledger_check_entry_balances($1, $2)', TG_TABLE_SCHEMA)
        USING TG_TABLE_SCHEMA, NEW.entry_id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION ledger_entry_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %I.ledger_check_entry_balances($1, $2)', TG_TABLE_SCHEMA)
        USING TG_TABLE_SCHEMA, NEW.id;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_line_balances
    AFTER INSERT ON ledger_journalline DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_line_inserted();
CREATE CONSTRAINT TRIGGER ledger_entry_has_balanced_lines
    AFTER INSERT ON ledger_journalentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_inserted();

CREATE FUNCTION ledger_posted_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (post a correction instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ledger_line_immutable BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_is_immutable();
CREATE TRIGGER ledger_line_no_truncate BEFORE TRUNCATE ON ledger_journalline
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_posted_is_immutable();
CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_is_immutable();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_posted_is_immutable();

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

INSERT INTO ledger_ledgerstate (last_entry_hash) VALUES (repeat('0', 64));
"""

BACKWARD = """
DELETE FROM ledger_ledgerstate;
DROP TRIGGER IF EXISTS ledger_entry_open_period ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_line_no_truncate ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_line_immutable ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_entry_has_balanced_lines ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_line_balances ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_entry_in_open_period();
DROP FUNCTION IF EXISTS ledger_posted_is_immutable();
DROP FUNCTION IF EXISTS ledger_entry_inserted();
DROP FUNCTION IF EXISTS ledger_line_inserted();
DROP FUNCTION IF EXISTS ledger_check_entry_balances(text, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
