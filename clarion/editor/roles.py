"""The four roles, as Django groups: which permissions each one is given.

Plain data and one function that takes the Group and Permission models as arguments, so the
data migration (historical models), ``clarion manage setup_roles`` and the post-migrate hook
all apply the same definition. Permissions of apps that are not installed (or not yet
migrated) are skipped and granted by the next run.
"""

from __future__ import annotations

from django.db.models import Q

ADMINISTRATOR = "Administrator"
EDITOR = "Editor"
AUTHOR = "Author"
CONTRIBUTOR = "Contributor"

ALL = "all"


def _crud(model: str, *actions: str) -> list[str]:
    return [f"{action}_{model}" for action in actions or ("add", "change", "delete", "view")]


ROLES: dict[str, str | dict[str, list[str]]] = {
    # Everything: site settings, users and groups included.
    ADMINISTRATOR: ALL,
    # All posts, publishing, filing; subscribers read-only.
    EDITOR: {
        "posts": [
            *_crud("post"),
            *_crud("category"),
            *_crud("tag"),
            *_crud("redirect"),
            *_crud("page"),
            "view_author",
        ],
        "editor": [
            "publish_post",
            "edit_any_post",
            *_crud("mediaitem"),
            "view_revision",
        ],
        "newsletter": ["view_subscriber"],
    },
    # Their own posts, published or not; their own profile.
    AUTHOR: {
        "posts": [
            *_crud("post"),
            "view_category",
            *_crud("tag", "add", "view"),
            *_crud("author", "change", "view"),
        ],
        "editor": ["publish_post", *_crud("mediaitem"), "view_revision"],
    },
    # Their own drafts; someone else publishes them.
    CONTRIBUTOR: {
        "posts": [*_crud("post"), "view_category", *_crud("tag", "add", "view"), "view_author"],
        "editor": [*_crud("mediaitem", "add", "view"), "view_revision"],
    },
}


def role_permissions(Permission, role: str):
    spec = ROLES[role]
    if spec == ALL:
        return Permission.objects.all()
    query = Q(pk__in=[])
    for app_label, codenames in spec.items():
        query |= Q(content_type__app_label=app_label, codename__in=codenames)
    return Permission.objects.filter(query)


def apply_roles(Group, Permission, *, reset: bool = False) -> dict[str, int]:
    """Create the role groups and grant their permissions; returns {role: permission count}.

    Adds what is missing and keeps permissions an administrator gave a group by hand, unless
    ``reset``, which makes each group hold exactly its role's permissions.
    """
    counts = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        permissions = list(role_permissions(Permission, role))
        if reset:
            group.permissions.set(permissions)
        else:
            group.permissions.add(*permissions)
        counts[role] = group.permissions.count()
    return counts


def create_all_permissions(app_configs, *, using: str = "default", apps=None) -> None:
    """Make sure every model's Permission rows exist (Django creates them after migrating,
    which is too late for a data migration or for an app migrated in the same run)."""
    from django.contrib.auth.management import create_permissions

    for app_config in app_configs:
        if apps is None:
            create_permissions(app_config, verbosity=0, using=using)
            continue
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = None
