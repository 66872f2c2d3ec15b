"""Every path of the warehouse, and the environment dbt and Dagster read: import this first.

Importing the module switches telemetry off for Dagster, dbt and Great Expectations
(environment defaults; an explicit setting by the user wins).

Two environment variables place everything, and are read at call time so that a
test or ``ogi run --home`` can point one process at another home:

``OGI_HOME``   the warehouse home (default ``./ogi_home``)::

    HOME/raw/ab/<sha256>.<ext>       every file ever seen, content-addressed, never deleted
    HOME/parquet/inventory.parquet   every file seen: path, size, sha256, format, raw copy
    HOME/parquet/{reports,cells,parse_errors}-<part>.parquet   the parsed tables, a part per slice of a run
    HOME/parquet/quality_issues.parquet   what the quality gate found
    HOME/build/warehouse.duckdb      dbt's working file (only the run writes it)
    HOME/warehouse.duckdb            the published warehouse, replaced atomically after a good run
    HOME/dagster/                    the Dagster instance (runs, events, schedules) of ``ogi run``/``ogi ui``
    HOME/logs/runs/<run id>.log      one log per run (orchestration/runlog.py); logs/dbt/: dbt's own log
                                     of parsing the project for Dagster
    HOME/damaged/<time>/             files a run found damaged and set aside (healed from HOME/raw)

``OGI_INBOX``  the folder watched for new reports (default: the bundled sample reports)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "GX_ANALYTICS_ENABLED": "false",
}
for _key, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_key, _value)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"
#: The bundled sample reports (seed and real-world text reports): the default inbox.
SAMPLES_DIR = PACKAGE_DIR / "samples"
DEFAULT_HOME = Path("ogi_home")

#: ``$DAGSTER_HOME/dagster.yaml`` of every instance we create: no telemetry (the webserver and
#: daemon would otherwise post usage data; the environment variable above only mutes the
#: upload), and one run at a time (the sensor and the schedule must not write the same
#: Parquet files).
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
"""


@dataclass(frozen=True)
class Paths:
    """The folders and files of one warehouse home."""

    home: Path
    inbox: Path

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def parquet_dir(self) -> Path:
        return self.home / "parquet"

    @property
    def inventory(self) -> Path:
        return self.parquet_dir / "inventory.parquet"

    def table(self, name: str) -> Path:
        """``HOME/parquet/<name>.parquet``: what the dbt source ``read_parquet`` reads."""
        return self.parquet_dir / f"{name}.parquet"

    @property
    def build_warehouse(self) -> Path:
        return self.home / "build" / "warehouse.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dbt_log_dir(self) -> Path:
        return self.home / "logs" / "dbt"

    @property
    def damaged_dir(self) -> Path:
        """Where a run sets aside the files it found damaged (``damaged/<time>/``): kept, never read."""
        return self.home / "damaged"

    def make_dirs(self) -> "Paths":
        """Create the home's folders (nothing is created on import)."""
        for folder in (self.raw_dir, self.parquet_dir, self.build_warehouse.parent, self.dbt_log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def current() -> Paths:
    """The paths named by the settings ``OGI_HOME`` and ``OGI_INBOX`` now, as absolute paths."""
    from . import settings

    home = Path(settings.HOME.get() or DEFAULT_HOME).expanduser().resolve()
    inbox = Path(settings.INBOX.get() or SAMPLES_DIR).expanduser().resolve()
    return Paths(home=home, inbox=inbox)


def point_at(home: Path | None = None, inbox: Path | None = None) -> Paths:
    """Point this process (and what it starts) at ``home`` and ``inbox`` when given (the settings
    ``OGI_HOME`` / ``OGI_INBOX`` otherwise); the paths, absolute. Creates nothing."""
    if home is not None:
        os.environ["OGI_HOME"] = str(Path(home).expanduser().resolve())
    if inbox is not None:
        os.environ["OGI_INBOX"] = str(Path(inbox).expanduser().resolve())
    return current()


def export_env(paths: Paths | None = None) -> Paths:
    """Point this process and its children (dbt, the Dagster code server) at ``paths``.

    dbt reads ``OGI_PARQUET_DIR``, ``OGI_WAREHOUSE_PATH`` and ``DBT_PROFILES_DIR`` through
    ``env_var()`` and runs with cwd = dbt_project/, so they are absolute paths.
    """
    paths = paths or current()
    os.environ.update(environment(paths))
    return paths


def environment(paths: Paths) -> dict[str, str]:
    """The variables :func:`export_env` sets for ``paths``."""
    return {
        "OGI_HOME": str(paths.home),
        "OGI_INBOX": str(paths.inbox),
        "OGI_PARQUET_DIR": str(paths.parquet_dir),
        "OGI_WAREHOUSE_PATH": str(paths.build_warehouse),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_LOG_PATH": str(paths.dbt_log_dir),
    }


def ensure_dagster_home(path: Path) -> Path:
    """Create a Dagster instance folder whose ``dagster.yaml`` switches telemetry off."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return path


export_env(current())
