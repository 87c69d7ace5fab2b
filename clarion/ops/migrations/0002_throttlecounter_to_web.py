# Throttling moved to the web app (clarion/web/models.py); its table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('ops', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ThrottleCounter')],
            database_operations=[],
        ),
    ]
