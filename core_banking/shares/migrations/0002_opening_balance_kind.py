from django.db import migrations, models

# Share movements stay append-only, with one exception: the rollback of a data import (before the
# cooperative goes live) removes the opening rows that import wrote. It says so for its own
# transaction only (SET LOCAL coopcore.import_rollback = 'on'), and only rows of the import channel
# go; every other change is refused as before.
APPEND_ONLY_EXCEPT_IMPORT_ROLLBACK = """
CREATE OR REPLACE FUNCTION shares_transaction_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.channel = 'import'
       AND current_setting('coopcore.import_rollback', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused (record a correction instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER shares_transaction_immutable ON shares_sharetransaction;
CREATE TRIGGER shares_transaction_immutable BEFORE UPDATE OR DELETE ON shares_sharetransaction
    FOR EACH ROW EXECUTE FUNCTION shares_transaction_is_append_only();
"""

UNDO = """
DROP TRIGGER shares_transaction_immutable ON shares_sharetransaction;
CREATE TRIGGER shares_transaction_immutable BEFORE UPDATE OR DELETE ON shares_sharetransaction
    FOR EACH ROW EXECUTE FUNCTION shares_history_is_append_only();
DROP FUNCTION shares_transaction_is_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("shares", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sharetransaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("purchase", "Share purchase"),
                    ("withdrawal", "Share withdrawal on exit"),
                    ("correction", "Correction"),
                    ("opening", "Opening balance"),
                ],
                max_length=12,
            ),
        ),
        migrations.RunSQL(APPEND_ONLY_EXCEPT_IMPORT_ROLLBACK, UNDO),
    ]
