"""Running the real `clarion` command in a subprocess against its own data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clarion_env(data_dir: Path, database_url: str | None = None, **extra) -> dict[str, str]:
    """The environment of a real `clarion` process with its own data folder: nothing of the
    test run's own Clarion, Django or database settings leaks in; ``extra`` overrides."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLARION_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clarion.settings",
        CLARION_DATA_DIR=str(data_dir),
        CLARION_SECRET_KEY="subprocess-test-key-" + "y" * 40,
        CLARION_LOG_LEVEL="WARNING",
        CLARION_TICK_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_clarion(
    data_dir: Path, *args: str, timeout: float = 60, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=clarion_env(data_dir, **extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        cwd=data_dir,
    )
