"""The dbt project as dagster-dbt sees it: the ``DbtProject`` and its manifest, nothing else.

No ``@dbt_assets`` here: building them reads the manifest, and this module must import without one,
so that ``dagster-dbt project prepare-and-package --file orchestration/dbt_project.py``
and :func:`ensure_manifest` can create one.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from . import paths

#: dbt of this interpreter's environment, not whatever is on PATH: cron, IDEs and systemd run
#: without the venv activated. Only ``dbt parse`` for Dagster's manifest runs it; the runs'
#: dbt builds run in the run's own process (orchestration/dbt_inprocess.py).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=paths.DBT_PROJECT_DIR)

#: What a manifest is made from: when one of these is newer than the manifest, it is stale.
_SOURCES = ("dbt_project.yml", "profiles.yml", "selectors.yml", "models", "macros", "seeds", "tests", "snapshots")


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when the manifest is missing or older than a file of the dbt project.

    This manifest only describes the project to Dagster (its assets and checks); which home
    it was parsed for does not matter. Each home's runs parse into their own target folder
    (``HOME/build/dbt-target``), where dbt's partial parsing carries over between runs.
    """
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in _SOURCES:
        path = project.project_dir / name
        files = [path] if path.is_file() else (path.rglob("*") if path.is_dir() else [])
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` (offline, no telemetry) when the manifest is missing or stale."""
    paths.export_env()  # the profile's and the sources' env_var() calls need OGI_PARQUET_DIR etc.
    if manifest_is_stale(project):
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir), "--target-path", str(project.target_path)],
            cwd=project.project_dir,
            check=True,
        )
    return project.manifest_path


# `dagster dev` and `dg` set DAGSTER_IS_DEV_CLI: bring the manifest up to date on every load
# there. (dbt_project.prepare_if_dev() would too, but always re-parses and runs the `dbt` on PATH.)
if os.getenv("DAGSTER_IS_DEV_CLI"):
    ensure_manifest()
