"""The files in deploy/ name real commands, flags, settings and paths, and nginx accepts
the site file."""

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import load_command_class
from django.core.management.base import CommandError

from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))
SOURCE = "\n".join(p.read_text() for p in (REPO / "clarion").rglob("*.py"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def _command(unit) -> list[str]:
    return shlex.split(unit["Service"]["ExecStart"])


def test_it_ships_a_web_and_a_worker_unit():
    assert [u.name for u in UNITS] == ["clarion-web.service", "clarion-worker.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_it_runs_real_clarion_commands_with_real_flags(path):
    argv = _command(_unit(path))
    assert argv[0].endswith("/bin/clarion")
    name, args = argv[1], argv[2:]
    command = load_command_class({"serve": "clarion.ops", "worker": "clarion.ops"}[name], name)
    parser = command.create_parser("clarion", name)
    try:
        parser.parse_args(args)
    except CommandError as exc:  # an unknown or malformed flag
        pytest.fail(f"{path.name}: {exc}")


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_it_signals_only_the_main_process_so_a_running_task_can_finish(path):
    service = _unit(path)["Service"]
    assert service["KillMode"] == "mixed"
    assert service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"] == "/etc/clarion/clarion.env"
    assert service["ReadWritePaths"] == service["WorkingDirectory"] == "/var/lib/clarion"


def test_it_documents_only_settings_that_exist():
    names = re.findall(r"^#?([A-Z_]+)=", (DEPLOY / "clarion.env.example").read_text(), re.M)
    assert "CLARION_DATA_DIR" in names
    for name in names:
        base = name.removesuffix("_FILE")
        assert f'"{base}"' in SOURCE, f"{name} is not read by Clarion"


def test_it_proxies_nginx_to_the_port_the_web_unit_serves():
    argv = _command(_unit(DEPLOY / "clarion-web.service"))
    port = argv[argv.index("--port") + 1]
    site = (DEPLOY / "nginx-clarion.conf").read_text()
    assert f"server 127.0.0.1:{port};" in site
    assert "alias /var/lib/clarion/media/;" in site


def test_it_passes_nginx_t_inside_a_minimal_nginx_conf(tmp_path):
    if not shutil.which("nginx"):
        if IN_CI:
            pytest.fail("nginx is not installed (apt-get install -y nginx)")
        pytest.skip("nginx is not installed")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {DEPLOY / 'nginx-clarion.conf'}; }}\n"
    )
    done = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
