"""Derived state: role groups after migrating, and media files after an image is deleted."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver

from .models import MediaItem
from .roles import ROLES


def set_up_roles_after_migrate(sender, using="default", apps=None, **kwargs):
    """Grant roles any permission that appeared in this migrate run (e.g. the newsletter's
    view_subscriber once its app is migrated). Keeps permissions given by hand."""
    from django.apps import apps as global_apps
    from django.contrib.auth.models import Group, Permission

    from .roles import apply_roles, create_all_permissions

    create_all_permissions(global_apps.get_app_configs(), using=using)
    apply_roles(Group, Permission)


@receiver(post_delete, sender=MediaItem, dispatch_uid="clarion.editor.delete_media_files")
def delete_media_files(sender, instance, **kwargs):
    from django.core.files.storage import default_storage

    names = instance.stored_names()

    def remove():
        for name in names:
            if name:
                default_storage.delete(name)

    # Only once the row is really gone: a rolled-back delete keeps its files.
    transaction.on_commit(remove)


def _is_role_group(group_pks) -> bool:
    from django.contrib.auth.models import Group

    return Group.objects.filter(pk__in=group_pks, name__in=list(ROLES)).exists()


def staff_when_given_a_role(sender, instance, action, pk_set, reverse, **kwargs):
    """Putting a user in a role group lets them into the admin (sets is_staff)."""
    if action != "post_add" or reverse or not pk_set:
        return
    if not instance.is_staff and _is_role_group(pk_set):
        type(instance).objects.filter(pk=instance.pk).update(is_staff=True)
        instance.is_staff = True


def connect_user_groups():
    from django.contrib.auth import get_user_model

    m2m_changed.connect(
        staff_when_given_a_role,
        sender=get_user_model().groups.through,
        dispatch_uid="clarion.editor.staff_when_given_a_role",
    )
