"""A counter repayment's reads in one round trip, after the loan's lock.

``lending_repayment_context(loan, key, day, day_check, lock_prefix, cash_code)`` locks the loan row,
then (each query with a snapshot taken after the lock, as VOLATILE PL/pgSQL reads) answers in one
JSON document: whether the idempotency key was used, whether the branch's day is open for the
channel (``accounting_counter_day_open``, which also takes the day lock shared), the loan, its
product's rules and account codes, the member's phone and language, the ledger's closed-through
date, whether the cash account is active, and the instalments not yet fully paid. ``services/loans.py`` uses it for
the common repayment (an instalment at the counter); anything else takes the step-by-step path.
"""

from django.db import migrations

REPAYMENT_CONTEXT = """
CREATE OR REPLACE FUNCTION lending_repayment_context(
    loan bigint, key text, posting_day date, day_check boolean, lock_prefix text, cash_code text
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    branch bigint;
BEGIN
    SELECT l.branch_id INTO branch FROM lending_loan l WHERE l.id = loan FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM lending_loantransaction t WHERE t.idempotency_key = key) THEN
        RETURN jsonb_build_object('replay', true);
    END IF;
    RETURN jsonb_build_object(
        'replay', false,
        'day_open', accounting_counter_day_open(day_check, lock_prefix || branch::text, branch, posting_day),
        'loan', (SELECT to_jsonb(l) - 'terms_json' FROM lending_loan l WHERE l.id = loan),
        'branch_code', (SELECT b.code FROM organisation_branch b WHERE b.id = branch),
        'member', (
            SELECT jsonb_build_object('phone', m.phone, 'language', m.message_language)
            FROM lending_loan l JOIN members_member m ON m.id = l.member_id WHERE l.id = loan
        ),
        'product', (
            SELECT jsonb_build_object(
                'allocation_order', p.allocation_order, 'prepayment_strategy', p.prepayment_strategy,
                'accrues_interest', p.accrues_interest, 'receivable', r.code, 'interest_income', i.code,
                'fee_income', f.code, 'penalty_income', n.code)
            FROM lending_loan l
            JOIN lending_loanproduct p ON p.id = l.product_id
            JOIN ledger_account r ON r.id = p.receivable_account_id
            JOIN ledger_account i ON i.id = p.interest_income_account_id
            JOIN ledger_account f ON f.id = p.fee_income_account_id
            JOIN ledger_account n ON n.id = p.penalty_income_account_id
            WHERE l.id = loan
        ),
        'closed_through', (SELECT s.closed_through FROM ledger_ledgerstate s LIMIT 1),
        'cash_active', EXISTS (SELECT 1 FROM ledger_account a WHERE a.code = cash_code AND a.is_active),
        'rows', (
            SELECT jsonb_agg(to_jsonb(r) ORDER BY r.number)
            FROM lending_loaninstallment r WHERE r.loan_id = loan AND r.paid_on IS NULL
        )
    );
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("lending", "0004_interest_accrual"), ("accounting", "0002_counter_day_open")]

    operations = [
        migrations.RunSQL(
            REPAYMENT_CONTEXT,
            reverse_sql="DROP FUNCTION IF EXISTS lending_repayment_context(bigint, text, date, boolean, text, text);",
        )
    ]
