from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0004_spare_workspaces'),
    ]

    operations = [
        migrations.AddField(
            model_name='usagesnapshot',
            name='sms_segments_this_month',
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
    ]
