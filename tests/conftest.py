"""Test set-up shared by every module: temporary homes, telemetry off, the dbt manifest.

The environment is set here, at import, before any test module imports ``orchestration``:
no test touches ./ogi_home or ~/.dagster, and nothing phones home.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

#: In RAM when the machine has /dev/shm: the runs' SQLite event logs and DuckDB files
#: fsync on every commit, which costs more than the work itself on a busy disk.
_SHM = Path("/dev/shm")
_ROOT = Path(tempfile.mkdtemp(prefix="ogi-tests-", dir=_SHM if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None))
atexit.register(shutil.rmtree, _ROOT, True)

os.environ.update({"OGI_HOME": str(_ROOT / "home"), "DAGSTER_HOME": str(_ROOT / "dagster")})

from orchestration import paths  # noqa: E402  (after the environment above; switches telemetry off)

paths.ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))


@pytest.fixture(scope="session")
def test_root() -> Path:
    """The session's temporary folder (holds OGI_HOME and DAGSTER_HOME)."""
    return _ROOT


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt_project/target/manifest.json, made by ``dbt parse`` (offline) when missing or stale."""
    from orchestration.dbt_project import ensure_manifest

    return ensure_manifest()
