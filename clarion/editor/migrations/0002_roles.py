from django.db import migrations


def create_roles(apps, schema_editor):
    from clarion.editor.roles import apply_roles, create_all_permissions

    create_all_permissions(
        apps.get_app_configs(), using=schema_editor.connection.alias, apps=apps
    )
    apply_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("posts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
