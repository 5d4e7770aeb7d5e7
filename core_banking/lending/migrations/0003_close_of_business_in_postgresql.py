"""What the close of business needs from PostgreSQL, and account 4400 for existing workspaces.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE of ``lending_loanmonthendsnapshot``: the monthly loan
reports read what the close of business recorded at the month end, whatever happens to the loans
afterwards.

``lending_installment_unpaid_by_due`` indexes the instalments not fully paid (``paid_on`` is set
when the last of an instalment is paid, so an instalment that still owes anything has none): the
close of business reads the late ones through it, a small part of a book whose instalments are
mostly paid, instead of every instalment due before the day. Django's model state does not list
it (a partial index the models need not know about).

Account 4400 (recoveries of written-off loans) joined the preset chart with loan write-offs; new
workspaces get it at provisioning, and this adds it to workspaces provisioned before (those with a
chart: the template carries none), named in the cooperative's language.
"""

from django.conf import settings
from django.db import migrations

SNAPSHOT_FIXED = """
CREATE FUNCTION lending_snapshot_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is written once at a month end: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER lending_snapshot_fixed BEFORE UPDATE OR DELETE ON lending_loanmonthendsnapshot
    FOR EACH ROW EXECUTE FUNCTION lending_snapshot_is_fixed();
CREATE TRIGGER lending_snapshot_no_truncate BEFORE TRUNCATE ON lending_loanmonthendsnapshot
    FOR EACH STATEMENT EXECUTE FUNCTION lending_snapshot_is_fixed();
"""
SNAPSHOT_FIXED_REVERSE = """
DROP TRIGGER IF EXISTS lending_snapshot_no_truncate ON lending_loanmonthendsnapshot;
DROP TRIGGER IF EXISTS lending_snapshot_fixed ON lending_loanmonthendsnapshot;
DROP FUNCTION IF EXISTS lending_snapshot_is_fixed();
"""

UNPAID_INDEX = """
CREATE INDEX lending_installment_unpaid_by_due ON lending_loaninstallment (due_date) WHERE paid_on IS NULL;
"""
UNPAID_INDEX_REVERSE = "DROP INDEX IF EXISTS lending_installment_unpaid_by_due;"

# As core_banking.ledger.presets.CHART had it when this ran.
RECOVERIES_CODE = "4400"
RECOVERIES_NAMES = {
    "en": "Recoveries of written-off loans",
    "bn": "অবলোপনকৃত ঋণ আদায়",
    "vi": "Thu hồi nợ đã xóa sổ",
    "th": "หนี้สูญได้รับคืน",
}


def add_recoveries_account(apps, schema_editor):
    connection = schema_editor.connection
    schema_name = getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME)
    if schema_name == settings.PUBLIC_SCHEMA_NAME:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT default_language, is_template FROM "{settings.PUBLIC_SCHEMA_NAME}".tenants_cooperative '
            "WHERE schema_name = %s",
            [schema_name],
        )
        row = cursor.fetchone()
    if row is None or row[1]:
        return  # the template, or a schema no cooperative owns
    Account = apps.get_model("ledger", "Account")
    if not Account.objects.filter(code="1300").exists():
        return  # no chart yet: provisioning seeds the whole preset
    name = RECOVERIES_NAMES.get(str(row[0]), RECOVERIES_NAMES["en"])
    Account.objects.get_or_create(code=RECOVERIES_CODE, defaults={"name": name, "kind": "income"})


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0002_close_of_business"),
        ("ledger", "0004_trigger_checks_with_cached_plans"),
    ]

    operations = [
        migrations.RunSQL(SNAPSHOT_FIXED, reverse_sql=SNAPSHOT_FIXED_REVERSE),
        migrations.RunSQL(UNPAID_INDEX, reverse_sql=UNPAID_INDEX_REVERSE),
        migrations.RunPython(add_recoveries_account, migrations.RunPython.noop),
    ]
