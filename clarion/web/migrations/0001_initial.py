# The content generation (from posts) and the throttle counters (from ops) moved here with
# their tables as they were: only Django's idea of which app they belong to changes.

from django.db import migrations, models


def relabel_content_types(apps, schema_editor, moves):
    """Keep each moved model's content type (and so its permissions) rather than leave a
    stale one behind and make a new one."""
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    for model, old, new in moves:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


MOVES = [('contentgeneration', 'posts', 'web'), ('throttlecounter', 'ops', 'web')]


def forwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, MOVES)


def backwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, [(m, new, old) for m, old, new in MOVES])


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('posts', '0005_contentgeneration_to_web'),
        ('ops', '0002_throttlecounter_to_web'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ContentGeneration',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('value', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'posts_contentgeneration',
                    },
                ),
                migrations.CreateModel(
                    name='ThrottleCounter',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(max_length=64)),
                        ('client', models.CharField(max_length=64)),
                        ('window_start', models.DateTimeField(db_index=True)),
                        ('hits', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'ops_throttlecounter',
                        'constraints': [models.UniqueConstraint(fields=('scope', 'client', 'window_start'), name='throttle_one_row_per_window')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
