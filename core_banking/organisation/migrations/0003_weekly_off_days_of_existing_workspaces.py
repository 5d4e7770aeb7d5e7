"""Workspaces provisioned before the calendar get the weekly off-days of their cooperative's country.

New workspaces are seeded at provisioning (tenants.services). The template stays empty: its rows
would be cloned into every new workspace whatever its country.
"""

from django.conf import settings
from django.db import migrations

# As core_banking.organisation.working_days had them when this ran.
COUNTRY_WEEKLY_OFF_DAYS = {"BD": [4], "VN": [5, 6], "TH": [5, 6]}
DEFAULT_WEEKLY_OFF_DAYS = [5, 6]


def seed(apps, schema_editor):
    connection = schema_editor.connection
    schema_name = getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME)
    if schema_name == settings.PUBLIC_SCHEMA_NAME:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT country, is_template FROM "{settings.PUBLIC_SCHEMA_NAME}".tenants_cooperative '
            "WHERE schema_name = %s",
            [schema_name],
        )
        row = cursor.fetchone()
    if row is None or row[1]:
        return  # the template, or a schema no cooperative owns
    WeeklyOffDays = apps.get_model("organisation", "WeeklyOffDays")
    if not WeeklyOffDays.objects.filter(branch__isnull=True).exists():
        weekdays = COUNTRY_WEEKLY_OFF_DAYS.get(str(row[0]).upper(), DEFAULT_WEEKLY_OFF_DAYS)
        WeeklyOffDays.objects.create(branch=None, weekdays=weekdays)


class Migration(migrations.Migration):
    dependencies = [("organisation", "0002_working_day_calendar")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
