"""Documentation that tests keep true (Datasette's recipe): every setting and every command."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def all_docs() -> str:
    return "\n".join(p.read_text() for p in DOCS.glob("*.md"))


def env_vars_read_by_clarion() -> set[str]:
    names = set()
    for path in (ROOT / "clarion").rglob("*.py"):
        names |= set(
            re.findall(r"env(?:bool|int)?\(\s*\"(CLARION_[A-Z_]+|DATABASE_URL)\"", path.read_text())
        )
    return names


def test_every_setting_is_documented_in_configuration_md():
    documented = (DOCS / "configuration.md").read_text()
    missing = sorted(name for name in env_vars_read_by_clarion() if f"`{name}`" not in documented)
    assert missing == []


# Settings the spec promises for features that open issues will build; each leaves this
# list when its feature lands (the test below fails if one is read while still listed).
NOT_BUILT_YET = {
    "CLARION_BOUNCE_URL": "issue 23, email deliverability",
    "CLARION_FEDIVERSE": "issue 25, the fediverse",
    "CLARION_FEDIVERSE_HANDLE": "issue 25, the fediverse",
    "CLARION_ANALYTICS": "issue 26, analytics",
    "CLARION_ANALYTICS_RETENTION_DAYS": "issue 26, analytics",
}


def test_every_setting_in_the_product_spec_is_read():
    spec = ROOT.parent / "shared" / "PRODUCT.md"
    if not spec.exists():
        pytest.skip("shared/PRODUCT.md is not beside this checkout")
    table = spec.read_text().split("### Configuration", 1)[1].split("###", 1)[0]
    promised = set(re.findall(r"\| `([A-Z_]+)` \|", table))
    read = env_vars_read_by_clarion()
    assert sorted(promised - read - NOT_BUILT_YET.keys()) == []
    assert sorted(read & NOT_BUILT_YET.keys()) == [], "built: remove it from NOT_BUILT_YET"


def clarion_commands():
    return sorted(name for name, app in get_commands().items() if app.startswith("clarion."))


@pytest.mark.parametrize("name", clarion_commands())
def test_every_clarion_command_has_help_and_is_documented(name):
    command = load_command_class(get_commands()[name], name)
    assert command.help.strip(), f"{name} has no help text"
    spoken = name.replace("_", " ") if name.startswith(("import_", "subscribers_")) else name
    assert f"clarion {spoken}" in all_docs() or f"clarion manage {name}" in all_docs(), name


def test_the_readme_names_the_two_commands_and_links_into_docs():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).exists(), link
