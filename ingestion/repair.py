"""The Parquet store checks itself, and heals from the raw copies.

The parsed tables are sets of parts (:mod:`ingestion.parts`): part ``k`` is three files,
``reports-k``, ``cells-k`` and ``parse_errors-k``, written together.  A file deleted,
truncated or overwritten by hand, a disk that failed, a journal that was damaged: any of
these used to jam every later run (a cells part without its reports part makes every
cell of it a duplicate once the reports are parsed again; a missing cells part leaves its
reports with no cells, quarantined for good).

:func:`check_store` runs at the start of every run (and by ``ogi repair``), before
anything reads the tables:

* a commit journal that cannot be read, or that names anything but the tables' own
  files, is set aside instead of being applied (its commit is lost, its reports are
  parsed again); a readable one is finished as before (:func:`ingestion.parts.recover`);
* temporary files of the tables are removed;
* every part is checked: its three files are there, each reads whole (every page of
  every column, once per version of the file: what was checked is remembered in
  ``parquet/.checked.json`` by name, size, mtime and inode), it has the columns it
  needs, and its cells belong to its reports;
* a part that fails is moved whole to ``HOME/damaged/<time>/`` (kept, never deleted);
* a report stored in two parts keeps neither copy.

Nothing is lost: the raw copies are the truth.  A report whose stored parse was moved
aside or dropped has no parse any more, so the run parses it again from
``HOME/raw`` like any new report (:func:`ingestion.parse_run.plan_parse`).  Each finding
names the files, what was wrong and what was done, for the run's summary.
"""
from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from .atomic import write_bytes_atomic
from .parts import (
    JOURNAL,
    PARSED_TABLES,
    BrokenJournal,
    TableWriter,
    _part_key,
    part_name,
    read_journal,
    recover,
    remove_part_temps,
    table_files,
)

#: What was checked already: part -> the (name, size, mtime_ns, inode) of its files then.
CHECKED = ".checked.json"
CHECK_VERSION = 1
#: Columns a file of each table must have for the store to use it.
REQUIRED_COLUMNS = {"reports": ("report_id", "parser_version"), "cells": ("report_id",),
                    "parse_errors": ("report_id", "parser_version")}
_BATCH = 65_536


@dataclass
class Finding:
    """One thing wrong with the store: the files, what was wrong, what was done."""

    files: list[str]
    problem: str
    action: str

    def __str__(self) -> str:
        return f"{', '.join(self.files)}: {self.problem}; {self.action}"


@dataclass
class StoreCheck:
    """What :func:`check_store` found and did."""

    findings: list[Finding] = field(default_factory=list)
    moved_to: Path | None = None  # the folder damaged files were moved to
    dropped: int = 0  # reports known to have lost their stored parse (parsed again from the raw copies)
    parts: int = 0  # parts checked
    read_whole: int = 0  # parts read in full this time (new or changed since they were last checked)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        return [str(f) for f in self.findings]


def _signature(files: dict[str, Path]) -> list[list]:
    sig = []
    for name in sorted(files):
        st = files[name].stat()
        sig.append([files[name].name, st.st_size, st.st_mtime_ns, st.st_ino])
    return sig


def _load_checked(parquet_dir: Path) -> dict[str, list]:
    try:
        data = json.loads((parquet_dir / CHECKED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CHECK_VERSION or not isinstance(data.get("parts"), dict):
        return {}
    return data["parts"]


def _save_checked(parquet_dir: Path, parts: dict[str, list], old: dict[str, list]) -> None:
    if parts == old:
        return
    body = json.dumps({"version": CHECK_VERSION, "parts": parts}, sort_keys=True).encode("utf-8")
    write_bytes_atomic(body, parquet_dir / CHECKED, fsync=False)


def _read_whole(path: Path, table: str) -> set[str]:
    """Every page of every column of ``path`` decoded; the report_ids it holds. Raises on damage."""
    pf = pq.ParquetFile(path)
    names = set(pf.schema_arrow.names)
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in names]
    if missing:
        raise ValueError(f"no column {', '.join(missing)}")
    ids: set[str] = set()
    for batch in pf.iter_batches(batch_size=_BATCH):
        ids.update(pc.unique(batch.column("report_id")).to_pylist())
    if pf.metadata.num_rows and None in ids:
        raise ValueError("rows without a report_id")
    return ids


def _ids(path: Path) -> set[str]:
    return set(pc.unique(pq.read_table(path, columns=["report_id"]).column("report_id")).to_pylist())


def _part_label(key: int | None) -> str:
    return "whole" if key is None else str(key)


def _verify(key: int | None, files: dict[str, Path]) -> tuple[str | None, dict[str, set[str]]]:
    """(None, ids per table) for a sound part; (what is wrong, the ids that could be read) otherwise."""
    ids: dict[str, set[str]] = {}
    problems: list[str] = []
    for table in PARSED_TABLES:
        path = files.get(table)
        if path is None:
            continue
        try:
            ids[table] = _read_whole(path, table)
        except Exception as exc:  # noqa: BLE001 (pyarrow raises many kinds for a damaged file)
            problems.append(f"{path.name} cannot be read ({type(exc).__name__}: {str(exc)[:200]})")
    missing = [n for n in PARSED_TABLES if n not in files]
    if missing:
        names = [f"{n}.parquet" if key is None else part_name(n, key) for n in missing]
        problems.append(f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} missing")
    if not problems:
        stray = ids["cells"] - ids["reports"]
        if stray:
            problems.append(f"{files['cells'].name} holds cells of {len(stray)} reports that "
                            f"{files['reports'].name} does not hold")
        elif ids["reports"] and not ids["cells"]:
            problems.append(f"{files['cells'].name} holds no cells for the {len(ids['reports'])} reports of "
                            f"{files['reports'].name}")
    return ("; ".join(problems) or None), ids


def _move_aside(files: list[Path], damaged_dir: Path, stamp: str) -> Path:
    folder = damaged_dir / stamp
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        target = folder / path.name
        n = 1
        while target.exists():
            target = folder / f"{path.name}.{n}"
            n += 1
        shutil.move(str(path), str(target))
    return folder


def check_store(parquet_dir: Path, damaged_dir: Path, *, now: datetime | None = None) -> StoreCheck:
    """Check the parsed tables in ``parquet_dir`` and heal what is wrong (see the module's text).

    Damaged files go to ``damaged_dir/<UTC time>/``.  Only while no other process writes
    the tables (a run, ``ogi repair``).
    """
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    out = StoreCheck()
    parquet_dir.mkdir(parents=True, exist_ok=True)

    journal = parquet_dir / JOURNAL
    if journal.exists():
        try:
            read_journal(journal)
        except BrokenJournal as exc:
            out.moved_to = _move_aside([journal], damaged_dir, stamp)
            out.findings.append(Finding([JOURNAL], f"the commit journal is damaged ({str(exc).split(': ', 1)[-1]})",
                                        f"moved to {out.moved_to}; the commit it held is dropped and its "
                                        "reports are parsed again from HOME/raw"))
        else:
            recover(parquet_dir)
            out.findings.append(Finding([JOURNAL], "a commit was interrupted (a crash or a kill)",
                                        "finished from its journal"))
    remove_part_temps(parquet_dir)

    groups: dict[int | None, dict[str, Path]] = defaultdict(dict)
    for table in PARSED_TABLES:
        for path in table_files(parquet_dir, table):
            groups[_part_key(path)][table] = path
    checked = _load_checked(parquet_dir)
    still_checked: dict[str, list] = {}
    holders: dict[str, list[str]] = defaultdict(list)  # report_id -> the files that hold it
    for key in sorted(groups, key=lambda k: -1 if k is None else k):
        files = groups[key]
        label = _part_label(key)
        out.parts += 1
        try:
            sig = _signature(files)
        except FileNotFoundError:  # pragma: no cover (removed while we looked)
            continue
        complete = all(n in files for n in PARSED_TABLES)
        if complete and checked.get(label) == sig:
            ids = {t: _ids(files[t]) for t in ("reports", "parse_errors")}
            problem = None
        else:
            out.read_whole += 1
            problem, ids = _verify(key, files)
        if problem is not None:
            out.moved_to = _move_aside(list(files.values()), damaged_dir, stamp)
            known = set().union(*ids.values()) if ids else set()
            out.dropped += len(known)
            out.findings.append(Finding(
                sorted(p.name for p in files.values()), problem,
                f"moved to {out.moved_to}; its reports ({len(known) or 'those it held'}) are parsed again "
                "from HOME/raw"))
            continue
        still_checked[label] = sig
        for table in ("reports", "parse_errors"):
            for rid in ids[table]:
                holders[rid].append(files[table].name)

    twice = {rid: names for rid, names in holders.items() if len(names) > 1}
    if twice:
        with TableWriter(parquet_dir, replace=set(twice)) as writer:
            writer.commit()
        touched = sorted({name for names in twice.values() for name in names})
        for name in touched:  # rewritten: checked again next time
            key = _part_key(parquet_dir / name)
            still_checked.pop(_part_label(key), None)
        out.dropped += len(twice)
        out.findings.append(Finding(touched, f"{len(twice)} reports are stored more than once",
                                    "every copy was removed; they are parsed again from HOME/raw"))
    _save_checked(parquet_dir, still_checked, checked)
    return out


def moved_files(check: StoreCheck) -> list[Path]:
    """The files :func:`check_store` moved aside (for a test or a report)."""
    if check.moved_to is None or not check.moved_to.is_dir():
        return []
    return sorted(p for p in check.moved_to.iterdir() if p.is_file())


__all__ = ["CHECKED", "Finding", "StoreCheck", "check_store", "moved_files"]
