"""Helpers for the dbt tests: Parquet inputs from golden records, and an in-process dbt run.

Kept free of pytest so that it can also be used from a shell to build a scratch warehouse.
"""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from expectations.issues import ISSUES_SCHEMA
from ingestion.inventory import INVENTORY_SCHEMA
from ingestion.record import Report
from ingestion.schema import SCHEMAS, cell_rows, report_row

from fixture_paths import GOLDEN_DIR, REALWORLD_GOLDEN_DIR

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = ROOT / "dbt_project"
ALIASES = DBT_PROJECT_DIR / "models" / "intermediate" / "reference" / "agency_aliases.csv"


PARSED_AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


def report_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def golden_files() -> list[Path]:
    """The five seed goldens and the real-world text goldens: hzq2023 (it breaks identity 4), hzq2024
    (the same body the next year, printed under a longer name) and szfgs2024 (its city's government)."""
    return sorted(GOLDEN_DIR.glob("*.json")) + [REALWORLD_GOLDEN_DIR / f"{name}.txt.json"
                                                for name in ("hzq2023", "hzq2024", "szfgs2024")]


def write_table(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def write_raw_parquet(parquet_dir: Path, records: Iterable[tuple[str, dict[str, Any]]],
                      parse_errors: Iterable[dict[str, Any]] = ()) -> None:
    """reports / cells / parse_errors Parquet for (report_id, contract JSON) pairs."""
    reports: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    for report_id, obj in records:
        report = Report.from_json(obj)
        fmt = Path(report.source).suffix.lstrip(".") or "txt"
        reports.append(report_row(report, report_id=report_id, fmt=fmt, parser_version="test",
                                  parsed_at=PARSED_AT))
        cells.extend(cell_rows(report, report_id=report_id))
    parquet_dir.mkdir(parents=True, exist_ok=True)
    write_table(parquet_dir / "reports.parquet", reports, SCHEMAS["reports"])
    write_table(parquet_dir / "cells.parquet", cells, SCHEMAS["cells"])
    write_table(parquet_dir / "parse_errors.parquet", list(parse_errors), SCHEMAS["parse_errors"])
    inventory = [
        {"path": f"/inbox/{r['source_file']}", "name": r["source_file"], "size": 0, "mtime_ns": 0,
         "sha256": r["report_id"], "format": r["format"], "raw_path": f"{r['report_id']}.{r['format']}",
         "first_seen": PARSED_AT, "last_seen": PARSED_AT}
        for r in reports
    ]
    write_table(parquet_dir / "inventory.parquet", inventory, INVENTORY_SCHEMA)
    write_agency_links(parquet_dir, reports)


def write_agency_links(parquet_dir: Path, reports: list[dict[str, Any]]) -> None:
    """agency_links.parquet for these reports, as the agency_links step writes it (the real linker)."""
    from ingestion.agencies import LINKS_FILE, update_links

    keys = {(r["agency"], r["year"], r["division_code"]) for r in reports}
    update_links(keys, parquet_dir / LINKS_FILE, ALIASES)


def write_quality_issues(parquet_dir: Path, issues: list[dict[str, Any]]) -> None:
    write_table(parquet_dir / "quality_issues.parquet", issues, ISSUES_SCHEMA)


@contextmanager
def dbt_env(parquet_dir: Path, warehouse: Path) -> Iterator[None]:
    """The environment the dbt project reads, restored afterwards."""
    values = {
        "OGI_PARQUET_DIR": str(parquet_dir),
        "OGI_WAREHOUSE_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(args: list[str], tmp: Path):
    """Run dbt in-process against the project; target and logs go under ``tmp``."""
    from dbt.cli.main import dbtRunner

    full = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(tmp / "target"),
        "--log-path", str(tmp / "logs"),
    ]
    return dbtRunner().invoke(full)


def failures(result) -> list[str]:
    """Names and messages of the nodes that did not pass."""
    out = []
    for r in getattr(result.result, "results", None) or []:
        status = str(r.status).lower()
        if status not in {"success", "pass", "warn", "skipped"} and not status.endswith(("success", "pass", "warn")):
            out.append(f"{r.node.unique_id}: {r.status}: {r.message}")
    if result.exception is not None:
        out.append(repr(result.exception))
    return out


def release_duckdb() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open in this process after an in-process run.

    dbt-duckdb caches one environment (and its DuckDB connection) per process across
    invocations; while it is open, this process cannot open the same file read-only
    ("different configuration") and no other process can open it at all (DuckDB lets one
    process hold a file open for writing).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager._ENV = None
