import getpass
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clarion.posts.models import Author


class Command(BaseCommand):
    help = "Create an administrator account (and its author profile)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=False)
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="Display name on posts.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of prompting.",
        )

    def handle(self, *args, username, email, name, password_stdin, **options):
        from clarion.ops.upgrades import UpgradeRefused, prepare_database

        # Usually the first command on a new server, before `clarion serve` ever ran: bring
        # the database up to date as serve does (with the same refusals).
        try:
            self.stdout.write(prepare_database())
        except UpgradeRefused as exc:
            raise CommandError(str(exc), returncode=2) from None
        User = get_user_model()
        interactive = sys.stdin.isatty() and not password_stdin
        if not username:
            if not interactive:
                raise CommandError("--username is required when not run interactively")
            username = input("Username: ").strip()
        if not username:
            raise CommandError("the username must not be empty")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"a user named '{username}' already exists")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif interactive:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        else:
            raise CommandError("give --password-stdin or run in a terminal")
        user = User(username=username, email=email, is_staff=True, is_superuser=True)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            Author.objects.get_or_create(user=user, defaults={"display_name": name or username})
        self.stdout.write(f"Created administrator '{username}'. Sign in at /admin/.")
