"""A workspace's own wording of its loan documents (L7), one version per row.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE of ``lending_documenttemplate``: a save, and a
"restore default", is a new version; the history of who changed what is never edited.
"""

import django.contrib.postgres.fields
from django.db import migrations, models

VERSIONS_FIXED = """
CREATE FUNCTION lending_document_template_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% keeps every version as saved: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER lending_document_template_fixed BEFORE UPDATE OR DELETE ON lending_documenttemplate
    FOR EACH ROW EXECUTE FUNCTION lending_document_template_is_fixed();
CREATE TRIGGER lending_document_template_no_truncate BEFORE TRUNCATE ON lending_documenttemplate
    FOR EACH STATEMENT EXECUTE FUNCTION lending_document_template_is_fixed();
"""
VERSIONS_FIXED_REVERSE = """
DROP TRIGGER IF EXISTS lending_document_template_no_truncate ON lending_documenttemplate;
DROP TRIGGER IF EXISTS lending_document_template_fixed ON lending_documenttemplate;
DROP FUNCTION IF EXISTS lending_document_template_is_fixed();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0005_repayment_context'),
    ]

    operations = [
        migrations.CreateModel(
            name='DocumentTemplate',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('kind', models.CharField(max_length=24, verbose_name='document')),
                ('language', models.CharField(max_length=8, verbose_name='language')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('title', models.CharField(blank=True, max_length=200, verbose_name='title')),
                ('opening', models.TextField(blank=True, verbose_name='opening paragraph')),
                ('clauses', django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), blank=True, default=list, size=None)),
                ('closing', models.TextField(blank=True, verbose_name='closing paragraph')),
                ('saved_at', models.DateTimeField()),
                ('saved_by_id', models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                'ordering': ['kind', 'language', '-version'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'language', 'version'), name='one_document_template_version'), models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='document_template_version_positive')],
            },
        ),
        migrations.RunSQL(VERSIONS_FIXED, VERSIONS_FIXED_REVERSE),
    ]
