import shutil

import pytest

from tests.server import clarion_env, run_clarion

COLLECT = "from clarion.ops.management.commands.serve import Command; Command().collect_static()"


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """Static files collected (hashed, gzip and brotli) once per session: compressing them
    takes seconds, and `clarion serve` skips it when the sources are unchanged."""
    data = tmp_path_factory.mktemp("static-template")
    run_clarion("manage", "shell", "-c", COLLECT, env=clarion_env(data))
    return data / "static"


@pytest.fixture
def data_dir(tmp_path, collected_static):
    """An empty data folder for `clarion` subprocesses, with the static files collected."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(collected_static, data / "static")
    return data
