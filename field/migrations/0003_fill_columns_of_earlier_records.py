"""Fill the columns 0002 added on the instalments synced before it: collector, value date, amount, branch.

Every record before 0002 is an instalment; its branch is its loan's (none when the loan is unknown).
"""

import datetime as dt

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    FieldRecord = apps.get_model("field", "FieldRecord")
    Loan = apps.get_model("lending", "Loan")
    for record in FieldRecord.objects.filter(collector__isnull=True).select_related("device").iterator():
        payload = record.payload
        loan = Loan.objects.filter(pk=payload.get("loan")).select_related("member").first()
        record.collector_id = record.device.user_id
        record.value_date = dt.date.fromisoformat(payload["value_date"])
        record.amount_minor = int(payload["amount_minor"])
        record.branch_id = loan.branch_id if loan is not None else None
        record.group_id = loan.member.group_id if loan is not None else None
        record.save(update_fields=["collector", "value_date", "amount_minor", "branch", "group"])


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0002_record_kinds_suspense_and_review"),
        ("lending", "0006_document_templates"),
        ("members", "0003_member_sms_opt_out"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
