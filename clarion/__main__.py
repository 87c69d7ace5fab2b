"""The ``clarion`` command: every subcommand is a Django management command.

``clarion import wordpress F`` runs ``import_wordpress``; ``clarion subscribers import F``
runs ``subscribers_import``; ``clarion manage ARGS`` runs any management command.
"""

import os
import sys

# Two-word commands from PRODUCT.md, mapped to management command names.
COMPOUND = {"import", "subscribers"}


def translate(argv: list[str]) -> list[str]:
    args = argv[1:]
    if not args or args[0] in {"-h", "--help", "help"}:
        return [argv[0], "help", "--commands"] if args[:1] == ["help"] else [argv[0], *args]
    if args[0] == "manage":
        return [argv[0], *args[1:]]
    if args[0] in COMPOUND and len(args) > 1 and not args[1].startswith("-"):
        return [argv[0], f"{args[0]}_{args[1]}", *args[2:]]
    return [argv[0], *args]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clarion.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(translate(["clarion", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
