"""The counter repayment's context returns only the instalments the payment can touch.

Migration 0005's ``lending_repayment_context`` returned every instalment not yet paid (27 on
average for a weekly loan half-way through), and building, sending and reading those rows cost
as much as the posting itself. It now takes the payment's amount and returns the instalments due
by the posting day, those the amount reaches in order (oldest first, as ``allocation.allocate``
pays them) and the first one due on or after the posting day (the member's SMS names it), plus
the totals over all unpaid instalments that the checks need (``open``: count, what is owed, and
what is owed without interest, the floor below which a payment cannot settle the loan).
"""

from django.db import migrations

# One instalment's unpaid amount, as ``services.loans._owed`` adds it up.
_OWED = (
    "(i.penalty_minor - i.penalty_paid_minor + i.fee_minor - i.fee_paid_minor"
    " + i.interest_minor - i.interest_waived_minor - i.interest_paid_minor"
    " + i.principal_minor - i.principal_paid_minor)"
)
_OWED_WITHOUT_INTEREST = (
    "(i.penalty_minor - i.penalty_paid_minor + i.fee_minor - i.fee_paid_minor"
    " + i.principal_minor - i.principal_paid_minor)"
)

REPAYMENT_CONTEXT = f"""
DROP FUNCTION IF EXISTS lending_repayment_context(bigint, text, date, boolean, text, text);
CREATE OR REPLACE FUNCTION lending_repayment_context(
    loan bigint, key text, posting_day date, day_check boolean, lock_prefix text, cash_code text,
    amount bigint
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
        'open', (
            SELECT jsonb_build_object(
                'count', count(*), 'owed', coalesce(sum({_OWED}), 0),
                'floor', coalesce(sum({_OWED_WITHOUT_INTEREST}), 0))
            FROM lending_loaninstallment i WHERE i.loan_id = loan AND i.paid_on IS NULL
        ),
        'rows', (
            SELECT jsonb_agg(to_jsonb(r) - 'owed_before' - 'first_ahead' ORDER BY r.number)
            FROM (
                SELECT i.*,
                    coalesce(sum({_OWED}) OVER (
                        ORDER BY i.number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS owed_before,
                    min(i.number) FILTER (WHERE i.due_date >= posting_day) OVER () AS first_ahead
                FROM lending_loaninstallment i WHERE i.loan_id = loan AND i.paid_on IS NULL
            ) r
            WHERE r.due_date <= posting_day OR r.owed_before <= amount OR r.number = r.first_ahead
        )
    );
END;
$$;
"""

PREVIOUS = """
DROP FUNCTION IF EXISTS lending_repayment_context(bigint, text, date, boolean, text, text, bigint);
"""


def _previous_context() -> str:
    from importlib import import_module

    return import_module("core_banking.lending.migrations.0005_repayment_context").REPAYMENT_CONTEXT


class Migration(migrations.Migration):
    dependencies = [("lending", "0006_document_templates")]

    operations = [
        migrations.RunSQL(REPAYMENT_CONTEXT, reverse_sql=PREVIOUS + _previous_context()),
    ]
