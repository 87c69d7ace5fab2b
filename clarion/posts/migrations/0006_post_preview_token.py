# Preview addresses by a random token per post instead of its id (issue 20). Django's recipe
# for a unique field on existing rows: add it nullable, fill each row, then make it unique.

import secrets

from django.db import migrations, models

import clarion.posts.models.post


def fill_tokens(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    for pk in Post.objects.filter(preview_token__isnull=True).values_list("pk", flat=True):
        Post.objects.filter(pk=pk).update(preview_token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):

    dependencies = [
        ('posts', '0005_contentgeneration_to_web'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='preview_token',
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='post',
            name='preview_token',
            field=models.CharField(
                default=clarion.posts.models.post.new_preview_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]
