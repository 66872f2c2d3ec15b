"""What a run does before it reads its home: remove what a killed run left, find damage, heal it.

A run can be killed at any moment (``kill -9``, a power cut, the OOM killer) and a disk
can fail or be edited by hand. The first steps of every run (and ``ogi repair``) make
the home whole again before anything reads it:

* :func:`sweep`: every temporary file by the one naming rule (:mod:`ingestion.atomic`)
  in every folder a run writes (the home, ``raw/``, ``parquet/``, ``build/``), and DuckDB's
  spill folder ``build/warehouse.duckdb.tmp/`` (dbt runs in the run's own process and dies
  with it; its target folder ``build/dbt-target/`` is kept for dbt's partial parsing);
* :func:`check_build_warehouse`: dbt's working file opens, or it is set aside and dbt
  builds it again from the Parquet files (everything in it is derived from them);
* :func:`check_inventory`, :func:`check_quality_state`, :func:`check_agency_links`: the
  inventory, the quality gate's state and the agency links read, or they are set aside (the
  inbox is hashed again; the gate judges every report again; every agency name is linked
  again);
* the Parquet parts: :func:`ingestion.repair.check_store`, in the ``parsed_reports``
  step.

Damaged files are moved to ``HOME/damaged/<time>/``, never deleted. Each finding says
what was wrong and what was done, for the run's summary. Only while no other run uses
the home (one run at a time per home).
"""
from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ingestion.atomic import remove_temp_files

from . import paths, settings


@dataclass
class HomeCheck:
    """What :func:`before_run` removed and found."""

    removed: list[str] = field(default_factory=list)  # left by an interrupted run, relative to the home
    findings: list[str] = field(default_factory=list)  # damage found, and what was done

    def lines(self) -> list[str]:
        """The summary: one line per finding, one for what was cleaned up."""
        out = list(self.findings)
        if self.removed:
            shown = ", ".join(self.removed[:5]) + (f" and {len(self.removed) - 5} more" if len(self.removed) > 5 else "")
            out.append(f"removed {len(self.removed)} temporary files and folders an interrupted run left: {shown}")
        return out


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def set_aside(p: paths.Paths, *files: Path) -> Path:
    """Move ``files`` (those that exist) to ``HOME/damaged/<time>/``; the folder."""
    folder = p.damaged_dir / _stamp()
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        if path.exists():
            shutil.move(str(path), str(folder / path.name))
    return folder


def _relative(p: paths.Paths, path: Path) -> str:
    try:
        return str(path.relative_to(p.home))
    except ValueError:
        return str(path)


def sweep(p: paths.Paths) -> list[str]:
    """Remove every temporary file and folder an interrupted run left (see the module's text)."""
    removed = remove_temp_files(p.home)  # copies of the published warehouse
    removed += remove_temp_files(p.raw_dir, recursive=True)  # raw copies
    removed += remove_temp_files(p.parquet_dir, recursive=True)  # parts, journal, inventory, quality files
    removed += remove_temp_files(p.build_warehouse.parent, recursive=True)
    folders = []
    spill = p.build_warehouse.with_name(p.build_warehouse.name + ".tmp")  # DuckDB's spill files
    if spill.is_dir() and not spill.is_symlink():
        folders.append(spill)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return [_relative(p, f) for f in removed + folders]


def check_build_warehouse(p: paths.Paths) -> str | None:
    """Set aside a ``build/warehouse.duckdb`` that DuckDB cannot open; what was done, or None."""
    import duckdb

    path = p.build_warehouse
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path))
        try:
            con.execute("select count(*) from duckdb_tables()").fetchall()
        finally:
            con.close()
        return None
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        if "lock" in reason.lower():
            return None  # another process holds it open: dbt will say so, the file is not damaged
    from .publish import wal_path

    folder = set_aside(p, path, wal_path(path))
    return (f"build/warehouse.duckdb cannot be opened ({reason[:300]}); moved to {folder}: "
            "dbt builds the warehouse again from the Parquet files")


def _unreadable_parquet(path: Path, columns: list[str] | None = None) -> str | None:
    import pyarrow.parquet as pq

    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
        missing = [c for c in columns or [] if c not in table.column_names]
        if missing:
            return f"no column {', '.join(missing)}"
    except Exception as exc:  # noqa: BLE001 (pyarrow raises many kinds for a damaged file)
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None


def check_inventory(p: paths.Paths) -> str | None:
    """Set aside an ``inventory.parquet`` that cannot be read; what was done, or None."""
    from ingestion.inventory import INVENTORY_SCHEMA

    why = _unreadable_parquet(p.inventory, INVENTORY_SCHEMA.names)
    if why is None:
        return None
    folder = set_aside(p, p.inventory)
    return (f"parquet/inventory.parquet cannot be read ({why}); moved to {folder}: every file in the inbox "
            "is hashed again (the raw copies and parsed reports are kept)")


def check_quality_state(p: paths.Paths) -> list[str]:
    """Set aside the quality gate's files that cannot be read; what was done."""
    from expectations.state import ISSUES_FILE, JUDGED_FILE

    out = []
    for name in (ISSUES_FILE, JUDGED_FILE):
        path = p.parquet_dir / name
        why = _unreadable_parquet(path, ["report_id"])
        if why is not None:
            folder = set_aside(p, path)
            out.append(f"parquet/{name} cannot be read ({why}); moved to {folder}: the quality gate judges "
                       "every report again")
    return out


def check_agency_links(p: paths.Paths) -> str | None:
    """Set aside an ``agency_links.parquet`` that cannot be read; what was done, or None."""
    from ingestion.agencies import LINKS_FILE, links_schema

    path = p.parquet_dir / LINKS_FILE
    why = _unreadable_parquet(path, links_schema().names)
    if why is None:
        return None
    folder = set_aside(p, path)
    return (f"parquet/{LINKS_FILE} cannot be read ({why}); moved to {folder}: every agency name is linked "
            "again (the agency_links step)")


def before_run(p: paths.Paths) -> HomeCheck:
    """Everything but the Parquet parts, in the order a run needs it (see the module's text)."""
    check = HomeCheck(removed=sweep(p))
    for finding in (check_build_warehouse(p), check_inventory(p), *check_quality_state(p), check_agency_links(p)):
        if finding:
            check.findings.append(finding)
    return check


def parse_function() -> Callable[..., Any]:
    """``parse_file`` with the limits from the settings (a partial pickles: the workers can take it)."""
    from ingestion.parse import parse_file

    return functools.partial(parse_file, max_bytes=settings.max_file_bytes(), timeout_s=settings.FILE_TIMEOUT_S.get())


def parse_options() -> dict[str, Any]:
    """The settings :func:`ingestion.parse_run.parse_pending` takes."""
    return {"workers": settings.PARSE_WORKERS.get() or None, "memory_mb": settings.PARSE_MEMORY_MB.get() or None}


def repair(p: paths.Paths) -> tuple[list[str], Any]:
    """``ogi repair``: what a run does first (:func:`before_run`, the Parquet store's check), then
    parse every report that has no parse from its raw copy. (What was found and done, the
    :class:`~ingestion.parse_run.ParseRun` or None when nothing was pending.)"""
    from ingestion import PARSER_VERSION
    from ingestion.parse_run import parse_pending, plan_parse
    from ingestion.parts import parsed_versions
    from ingestion.repair import check_store

    lines = before_run(p).lines() + check_store(p.parquet_dir, p.damaged_dir).lines()
    pending = plan_parse(p.inventory, p.raw_dir, parsed_versions(p.parquet_dir), PARSER_VERSION)
    if not pending:
        return lines, None
    return lines, parse_pending(pending, raw_dir=p.raw_dir, parquet_dir=p.parquet_dir, parse=parse_function(),
                                parser_version=PARSER_VERSION, **parse_options())
