"""Running the real `clarion` command in a subprocess against its own data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clarion_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CLARION_SECRET_KEY"}
    }
    env.update(
        CLARION_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="clarion.settings",
        PYTHONUNBUFFERED="1",
        CLARION_LOG_LEVEL="WARNING",
    )
    env.update(extra)
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
