from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from clarion.editor.roles import apply_roles, create_all_permissions


class Command(BaseCommand):
    help = (
        "Create the Administrator, Editor, Author and Contributor groups and grant their "
        "permissions. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also remove permissions given to these groups by hand.",
        )

    def handle(self, *args, reset, **options):
        with transaction.atomic():
            create_all_permissions(apps.get_app_configs())
            counts = apply_roles(Group, Permission, reset=reset)
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions")
