"""A workspace's own SMS texts (one version per row) and its reminder settings.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE of ``notifications_messagetemplate``: a save, and a
"restore default", is a new version; the history of who changed what is never edited.
"""

import django.core.validators
from django.db import migrations, models

VERSIONS_FIXED = """
CREATE FUNCTION notifications_message_template_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% keeps every version as saved: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER notifications_message_template_fixed BEFORE UPDATE OR DELETE ON notifications_messagetemplate
    FOR EACH ROW EXECUTE FUNCTION notifications_message_template_is_fixed();
CREATE TRIGGER notifications_message_template_no_truncate BEFORE TRUNCATE ON notifications_messagetemplate
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_message_template_is_fixed();
"""
VERSIONS_FIXED_REVERSE = """
DROP TRIGGER IF EXISTS notifications_message_template_no_truncate ON notifications_messagetemplate;
DROP TRIGGER IF EXISTS notifications_message_template_fixed ON notifications_messagetemplate;
DROP FUNCTION IF EXISTS notifications_message_template_is_fixed();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_outbox_delivery'),
    ]

    operations = [
        migrations.CreateModel(
            name='MessageTemplate',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('kind', models.CharField(max_length=32, verbose_name='message')),
                ('language', models.CharField(max_length=8, verbose_name='language')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('body', models.TextField(blank=True, verbose_name='text')),
                ('saved_at', models.DateTimeField()),
                ('saved_by_id', models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                'ordering': ['kind', 'language', '-version'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'language', 'version'), name='one_message_template_version'), models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='message_template_version_positive')],
            },
        ),
        migrations.CreateModel(
            name='NotificationSettings',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('upcoming_reminder_days', models.PositiveSmallIntegerField(default=2, help_text='0: no reminder before an instalment falls due.', validators=[django.core.validators.MaxValueValidator(14)], verbose_name='reminder days before the due date')),
                ('overdue_reminder_days', models.PositiveSmallIntegerField(default=3, help_text='A reminder on each of the first days an instalment is overdue; 0: none.', validators=[django.core.validators.MaxValueValidator(14)], verbose_name='overdue reminder days')),
                ('send_hour', models.PositiveSmallIntegerField(default=9, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(23)], verbose_name='local hour reminders are sent')),
                ('unaccented_vietnamese', models.BooleanField(default=False, help_text='Vietnamese messages without diacritics: GSM-7, up to 160 characters per SMS.', verbose_name='unaccented Vietnamese')),
                ('updated_at', models.DateTimeField(blank=True, null=True)),
                ('updated_by_id', models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='one_notification_settings_row')],
            },
        ),
        migrations.RunSQL(VERSIONS_FIXED, VERSIONS_FIXED_REVERSE),
    ]
