"""A branch's closed day, checked inside a teller's one-statement deposit.

``accounting_counter_day_open(check, lock_key, branch, day)`` is what
``core_banking.accounting.day_rules.counter_day_open_require`` does, callable from SQL: without
``check`` (a field, import or system posting) it is true at once; otherwise it takes the branch's
day lock shared (held until the transaction ends; a day close takes it exclusively) and is true
when the day is not closed. It is VOLATILE PL/pgSQL on purpose: each of its queries reads with a
snapshot of its own, taken after the lock is granted, so a day close that committed while the
calling statement waited for the lock is seen (the calling statement's own snapshot predates it).
"""

from django.db import migrations

COUNTER_DAY_OPEN = """
CREATE OR REPLACE FUNCTION accounting_counter_day_open(
    day_check boolean, lock_key text, branch bigint, posting_day date
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT day_check THEN
        RETURN true;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtextextended(lock_key, 0));
    RETURN NOT EXISTS (
        SELECT 1 FROM accounting_branchdayclose c WHERE c.branch_id = branch AND c.day = posting_day
    );
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [
        migrations.RunSQL(
            COUNTER_DAY_OPEN,
            reverse_sql="DROP FUNCTION IF EXISTS accounting_counter_day_open(boolean, text, bigint, date);",
        )
    ]
