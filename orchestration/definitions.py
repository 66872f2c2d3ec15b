"""The code location: everything under ``orchestration/defs/``, loaded by Dagster's defs-folder loader.

``dagster dev``, ``dg``, the tests and ``ogi run`` all load this one object
(``[tool.dagster]`` / ``[tool.dg]`` in pyproject.toml point here).
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg  # noqa: E402

from . import paths  # noqa: F401  - first: telemetry off, dbt's env vars exported


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
