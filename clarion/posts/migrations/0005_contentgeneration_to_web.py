# The content generation moved to the web app (clarion/web/models.py); its table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('posts', '0004_post_live_lookup'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ContentGeneration')],
            database_operations=[],
        ),
    ]
