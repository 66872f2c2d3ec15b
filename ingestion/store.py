"""Where parsed reports are kept: inbox inventory, raw copies, Parquet tables, incremental parsing.

Pure functions over folders and files, no Dagster import: the Dagster assets in
``orchestration/defs/ingestion.py`` call them, and so can a test or a script.

* :func:`take_inventory` lists an inbox, hashes every new or changed file (sha256 of
  its bytes, which is also its ``report_id``), sniffs its format and copies it,
  content-addressed, to ``raw/ab/<sha256>.<ext>``: nothing a user drops in is lost,
  even when it never parses. The inventory (``inventory.parquet``) keeps one row per
  (path, sha256) ever seen, so an unchanged file is never hashed twice.
* :func:`plan_parse` picks the reports still to parse: every sha256 of the inventory
  whose stored parse (in ``reports`` or ``parse_errors``) was made by another parser
  version, or never made.
* :func:`parse_pending` parses them, in worker processes when there are many
  (``OGI_PARSE_WORKERS``, default every core; :mod:`ingestion.workers`), and adds
  them to the three tables.

Each parsed table is a set of Parquet parts, ``parquet/<table>-<part>.parquet`` (the
dbt sources read ``<table>*.parquet``): a run adds one part per slice of about
``len(pending) / 16`` reports to each of ``reports``, ``cells`` and ``parse_errors``
(the same part number in the three), written by the worker that parsed the slice,
streamed in row groups of ``batch_rows`` rows: memory stays at one batch per worker
whatever the size of the tables, and a nightly run costs what is new, not what is
stored. A report parsed again (new parser version) drops its old rows: the parts
that held them are rewritten without them. :class:`TableWriter` makes a run's
changes visible all at once: parts are written under temporary names, then a
journal (``.commit.json``) lists the renames and deletions, which are applied and
the journal removed; a crash in between is finished by the next run
(:func:`recover`), so a reader never sees half a run.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import re
import stat
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .record import ParseError, Report
from .schema import SCHEMAS, report_row
from .workers import ordered_map, parse_workers, pool

#: Files an inbox holds that are not reports (yet): hidden files, editors' lock files,
#: downloads in progress.
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download")

#: The extension of a raw copy, by sniffed format.
FORMAT_SUFFIX = {"text": ".txt", "html": ".html", "pdf": ".pdf", "docx": ".docx", "doc": ".doc"}

INVENTORY_SCHEMA = pa.schema(
    [
        ("path", pa.string()),  # absolute path where the file was seen
        ("name", pa.string()),  # its file name: the reports' source_file
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("sha256", pa.string()),  # = report_id
        ("format", pa.string()),  # ingestion.parse.sniff_format
        ("raw_path", pa.string()),  # the raw copy, relative to the raw folder
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)

#: The tables the parser fills, in the order they are written.
PARSED_TABLES = ("reports", "cells", "parse_errors")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- inbox


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A file in the inbox, as ``stat`` sees it (no bytes read)."""

    location: str  # absolute path (a str: building 150,000 Path objects costs seconds)
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def name(self) -> str:
        return os.path.basename(self.location)


def is_candidate(name: str) -> bool:
    """Whether a file name can be a report (not hidden, not a download in progress)."""
    return not name.startswith(IGNORED_PREFIXES) and not name.lower().endswith(IGNORED_SUFFIXES)


def scan_inbox(inbox: Path) -> list[InboxEntry]:
    """Every candidate file below ``inbox`` (hidden folders skipped), sorted by path.

    Paths are absolute, below the inbox's resolved path; a symbolic link to a file is
    listed under the path of its target, as :meth:`Path.resolve` gives it.
    """
    entries: list[InboxEntry] = []
    if not inbox.is_dir():
        return entries
    todo = [str(inbox.resolve())]
    while todo:
        folder = todo.pop()
        try:
            listing = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in listing:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        todo.append(entry.path)
                    continue
                if not is_candidate(entry.name):
                    continue
                st = entry.stat()  # follows a symbolic link
            except (FileNotFoundError, NotADirectoryError):  # removed while we looked
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            location = str(Path(entry.path).resolve()) if entry.is_symlink() else entry.path
            entries.append(InboxEntry(location, st.st_size, st.st_mtime_ns))
    entries.sort(key=lambda e: e.location)
    return entries


def fingerprint(entries: Iterable[InboxEntry]) -> str:
    """A short digest of an inbox listing (paths, sizes, mtimes): changes when a file lands."""
    digest = hashlib.sha256()
    count = 0
    for e in entries:
        digest.update(f"{e.location}\0{e.size}\0{e.mtime_ns}\n".encode())
        count += 1
    return f"{count}:{digest.hexdigest()[:32]}"


# --------------------------------------------------------------------------- raw copies


def raw_relpath(sha256: str, name: str, fmt: str) -> str:
    """Where the raw copy of a file lives below the raw folder: ``ab/<sha256>.<ext>``."""
    suffix = FORMAT_SUFFIX.get(fmt)
    if suffix is None:
        original = Path(name).suffix.lower()
        suffix = original if 1 < len(original) <= 6 and original[1:].isalnum() else ".bin"
    return f"{sha256[:2]}/{sha256}{suffix}"


def store_raw(data: bytes, target: Path, *, fsync: bool = True) -> bool:
    """Write ``data`` to ``target`` unless it is there already; atomic. True when written.

    ``fsync=False`` leaves durability to the caller (one ``os.sync()`` after a batch of
    copies is far cheaper than one fsync per file).
    """
    if target.exists() and target.stat().st_size == len(data):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


# --------------------------------------------------------------------------- Parquet


def read_table(path: Path, schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file, or an empty table of ``schema`` when there is none."""
    if not path.exists():
        empty = schema.empty_table()
        return empty.select(columns) if columns else empty
    return pq.read_table(path, columns=columns)


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _fsync(path: Path) -> None:
    """fsync a file or a folder (a folder's entries: renames in it are durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write a whole table to ``path``: temporary file beside it, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(path)
    try:
        pq.write_table(table, tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_tmp(folder: Path, names: Iterable[str]) -> None:
    """Remove temporary files a crashed run left beside ``names`` in ``folder``."""
    for name in names:
        for tmp in folder.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- inventory


@dataclass
class Inventory:
    """What :func:`take_inventory` saw."""

    entries: list[dict[str, Any]]  # the inbox's files this time, as inventory rows
    new_files: int  # files whose content (sha256) the inventory had never seen
    hashed: int  # files read and hashed this time (new or changed since last time)
    stored: int  # raw copies written this time
    total_rows: int  # rows of inventory.parquet: every (path, sha256) ever seen


def _raw_copies(raw_dir: Path) -> set[str]:
    """The raw copies there are, as paths relative to ``raw_dir`` (one listing, no stat per file)."""
    found: set[str] = set()
    try:
        folders = [e for e in os.scandir(raw_dir) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return found
    for folder in folders:
        found.update(f"{folder.name}/{e.name}" for e in os.scandir(folder.path) if not e.name.startswith("."))
    return found


#: Files to hash below which the inventory hashes in this process (a pool costs ~0.5 s to start).
MIN_PARALLEL_HASH = 2_000
_HASH_CHUNK = 500


def _hash_and_store(args: tuple[list[InboxEntry], Path, Callable[[bytes], str]]
                    ) -> list[tuple[InboxEntry, str, str, str, int, bool] | None]:
    """Read, hash, sniff and copy a chunk of files: (entry, sha256, format, raw path, size, stored),
    None for a file gone meanwhile."""
    entries, raw_dir, sniff = args
    out: list[tuple[InboxEntry, str, str, str, int, bool] | None] = []
    for entry in entries:
        try:
            with open(entry.location, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            out.append(None)
            continue
        sha = hashlib.sha256(data).hexdigest()
        fmt = sniff(data)
        rel = raw_relpath(sha, entry.name, fmt)
        stored = store_raw(data, raw_dir / rel, fsync=False)
        out.append((entry, sha, fmt, rel, len(data), stored))
    return out


def take_inventory(
    inbox: Path,
    raw_dir: Path,
    inventory_path: Path,
    sniff: Callable[[bytes], str],
    now: datetime | None = None,
    workers: int | None = None,
) -> Inventory:
    """List ``inbox``, hash and copy what is new, and rewrite ``inventory.parquet``.

    New and changed files are read, hashed and copied by ``workers`` processes (default
    as for parsing: ``$OGI_PARSE_WORKERS``, else every core) when there are many.
    """
    now = now or utcnow()
    old = read_table(inventory_path, INVENTORY_SCHEMA).to_pylist()
    by_key = {(r["path"], r["sha256"]): r for r in old}
    latest: dict[str, dict[str, Any]] = {}  # path -> its most recent row
    for row in old:
        prev = latest.get(row["path"])
        if prev is None or row["last_seen"] >= prev["last_seen"]:
            latest[row["path"]] = row
    known_shas = {r["sha256"] for r in old}

    listing = scan_inbox(inbox)
    stored_copies = _raw_copies(raw_dir) if latest else set()
    rows_by_path: dict[str, dict[str, Any]] = {}
    to_hash: list[InboxEntry] = []
    for entry in listing:
        prev = latest.get(entry.location)
        unchanged = prev is not None and prev["size"] == entry.size and prev["mtime_ns"] == entry.mtime_ns
        if unchanged and prev["raw_path"] in stored_copies:
            rows_by_path[entry.location] = dict(prev, last_seen=now)
        else:
            to_hash.append(entry)

    n = parse_workers(workers)
    parallel = n > 1 and len(to_hash) >= MIN_PARALLEL_HASH and _picklable(sniff)
    chunks = [(to_hash[i:i + _HASH_CHUNK], raw_dir, sniff) for i in range(0, len(to_hash), _HASH_CHUNK)]
    new_files = hashed = stored = 0
    for done in ordered_map(_hash_and_store, chunks, n if parallel else 1):
        for item in done:
            if item is None:
                continue
            entry, sha, fmt, rel, size, wrote = item
            path = entry.location
            hashed += 1
            stored += wrote
            rows_by_path[path] = {
                "path": path,
                "name": entry.name,
                "size": size,
                "mtime_ns": entry.mtime_ns,
                "sha256": sha,
                "format": fmt,
                "raw_path": rel,
                "first_seen": by_key.get((path, sha), {}).get("first_seen") or now,
                "last_seen": now,
            }
            if sha not in known_shas:
                new_files += 1
                known_shas.add(sha)

    seen: list[dict[str, Any]] = []
    for entry in listing:  # in path order, as listed
        row = rows_by_path.get(entry.location)
        if row is not None:
            by_key[(row["path"], row["sha256"])] = row
            seen.append(row)
    if stored:
        os.sync()  # every raw copy on disk before the inventory names it
    rows = sorted(by_key.values(), key=lambda r: (r["path"], r["first_seen"]))
    write_table_atomic(pa.Table.from_pylist(rows, schema=INVENTORY_SCHEMA), inventory_path)
    return Inventory(entries=seen, new_files=new_files, hashed=hashed, stored=stored, total_rows=len(rows))


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class PendingReport:
    """A report (one sha256) to parse, from its raw copy."""

    report_id: str
    name: str  # the file name it was first seen under: the record's source
    format: str
    raw_path: str  # relative to the raw folder


def parsed_versions(parquet_dir: Path) -> dict[str, str]:
    """report_id -> parser_version of every stored parse, successful or not."""
    recover(parquet_dir)
    done: dict[str, str] = {}
    for name in ("reports", "parse_errors"):
        for path in table_files(parquet_dir, name):
            t = pq.read_table(path, columns=["report_id", "parser_version"])
            done.update(zip(t.column("report_id").to_pylist(), t.column("parser_version").to_pylist()))
    return done


def plan_parse(inventory_path: Path, raw_dir: Path, done: dict[str, str], parser_version: str) -> list[PendingReport]:
    """Every sha256 of the inventory with a raw copy and no parse by ``parser_version``."""
    rows = read_table(inventory_path, INVENTORY_SCHEMA).sort_by([("first_seen", "ascending"), ("path", "ascending")])
    pending: dict[str, PendingReport] = {}
    for r in rows.to_pylist():
        sha = r["sha256"]
        if sha in pending or done.get(sha) == parser_version:
            continue
        if not (raw_dir / r["raw_path"]).exists():
            continue  # the raw copy was deleted by hand: nothing left to parse
        pending[sha] = PendingReport(sha, r["name"], r["format"], r["raw_path"])
    return list(pending.values())


# --------------------------------------------------------------------------- parts

#: The journal of a commit in progress (see :func:`recover`).
JOURNAL = ".commit.json"
#: Reports per slice, i.e. per part of each table: about 1/SLICES_PER_RUN of a run, within bounds.
SLICES_PER_RUN = 16
SLICE_MIN = 250
SLICE_MAX = 5_000
#: The reason recorded for a file whose parsing killed its worker process.
WORKER_DIED = "the parser's worker process died on this file (a crash, or out of memory)"

_PART = re.compile(r"-(\d+)\.parquet$")


def part_name(name: str, part: int) -> str:
    return f"{name}-{part:06d}.parquet"


def table_glob(parquet_dir: Path, name: str) -> str:
    """The files DuckDB reads as table ``name`` (the dbt sources' ``read_parquet`` pattern)."""
    return str(parquet_dir / f"{name}*.parquet")


def table_files(parquet_dir: Path, name: str) -> list[Path]:
    """Every Parquet file of table ``name``: its parts, in part order (and a whole-table
    ``<name>.parquet``, as older homes and the dbt tests write, first)."""
    whole = parquet_dir / f"{name}.parquet"
    parts = sorted(parquet_dir.glob(f"{name}-[0-9]*.parquet"))
    return ([whole] if whole.exists() else []) + [p for p in parts if _PART.search(p.name)]


def _part_key(path: Path) -> int | None:
    m = _PART.search(path.name)
    return int(m.group(1)) if m else None


def next_part_number(parquet_dir: Path) -> int:
    """The number the next new part gets: one more than any stored."""
    parts = [_part_key(f) for n in PARSED_TABLES for f in table_files(parquet_dir, n)]
    return max([p for p in parts if p is not None], default=0) + 1


def read_parsed(parquet_dir: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    """All of table ``name`` (every part) as one Arrow table; empty with its schema when there is none."""
    files = table_files(parquet_dir, name)
    if not files:
        empty = SCHEMAS[name].empty_table()
        return empty.select(columns) if columns else empty
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files])


def tables_exist(parquet_dir: Path) -> bool:
    return all(table_files(parquet_dir, n) for n in PARSED_TABLES)


def table_rows(parquet_dir: Path) -> dict[str, int]:
    """Row counts of the parsed tables, from the Parquet footers."""
    return {n: sum(pq.ParquetFile(f).metadata.num_rows for f in table_files(parquet_dir, n)) for n in PARSED_TABLES}


def _apply(parquet_dir: Path, plan: dict[str, list]) -> None:
    """Carry out a commit's renames and deletions (again, if need be: every step is idempotent)."""
    for tmp, final in plan["rename"]:
        if (parquet_dir / tmp).exists():
            os.replace(parquet_dir / tmp, parquet_dir / final)
    for name in plan["delete"]:
        (parquet_dir / name).unlink(missing_ok=True)
    _fsync(parquet_dir)
    (parquet_dir / JOURNAL).unlink(missing_ok=True)
    _fsync(parquet_dir)


def recover(parquet_dir: Path) -> bool:
    """Finish a commit a crash interrupted (its journal is there); True when there was one."""
    journal = parquet_dir / JOURNAL
    if not journal.exists():
        return False
    _apply(parquet_dir, json.loads(journal.read_text(encoding="utf-8")))
    return True


def _remove_tmp(parquet_dir: Path, part: int | None = None) -> None:
    """Temporary part files left by a crash (of one ``part``, or all)."""
    suffix = "" if part is None else f"-{part:06d}"
    for name in PARSED_TABLES:
        for tmp in parquet_dir.glob(f".{name}{suffix}.*.tmp"):
            tmp.unlink(missing_ok=True)
    if part is None:
        for tmp in parquet_dir.glob(f".{JOURNAL}.*.tmp"):
            tmp.unlink(missing_ok=True)
        remove_stale_tmp(parquet_dir, (f"{n}.parquet" for n in PARSED_TABLES))


def cell_columns(report: Report, *, report_id: str) -> dict[str, list[Any]]:
    """:func:`ingestion.schema.cell_rows` as columns (a third of the time; no dict per cell)."""
    tables: list[str] = []
    rows: list[str] = []
    cols: list[str] = []
    values: list[float | None] = []
    raws: list[str] = []
    positions: list[str] = []
    for table, row, col, cell in report.iter_cells():
        tables.append(table)
        rows.append(row)
        cols.append(col)
        values.append(None if cell.value is None else float(cell.value))
        raws.append(cell.raw)
        positions.append(cell.position)
    return {"report_id": [report_id] * len(tables), "table_name": tables, "row_key": rows, "col_key": cols,
            "value": values, "raw": raws, "position": positions}


class PartWriter:
    """One part of each parsed table, streamed in row groups of ``batch_rows`` rows into
    temporary files; :meth:`close` returns their names for :meth:`TableWriter.adopt`."""

    def __init__(self, parquet_dir: Path, part: int, batch_rows: int = 50_000) -> None:
        self.parquet_dir = parquet_dir
        self.part = part
        self.batch_rows = batch_rows
        self.rows = {n: 0 for n in PARSED_TABLES}
        tag = uuid.uuid4().hex[:8]
        self._tmp = {n: parquet_dir / f".{n}-{part:06d}.{tag}.tmp" for n in PARSED_TABLES}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._cols = {n: {c: [] for c in SCHEMAS[n].names} for n in PARSED_TABLES}
        self._buffered = {n: 0 for n in PARSED_TABLES}

    def add_rows(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        cols = self._cols[name]
        n = 0
        for row in rows:
            for key, col in cols.items():
                col.append(row[key])
            n += 1
        self._added(name, n)

    def add_columns(self, name: str, columns: dict[str, list[Any]]) -> None:
        n = 0
        for key, col in self._cols[name].items():
            col.extend(columns[key])
            n = len(columns[key])
        self._added(name, n)

    def _added(self, name: str, n: int) -> None:
        self._buffered[name] += n
        if self._buffered[name] >= self.batch_rows:
            self._flush(name)

    def _writer(self, name: str) -> pq.ParquetWriter:
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self._tmp[name], SCHEMAS[name], compression="zstd")
        return self._writers[name]

    def _flush(self, name: str) -> None:
        if not self._buffered[name]:
            return
        table = pa.Table.from_pydict(self._cols[name], schema=SCHEMAS[name])
        self._writer(name).write_table(table, row_group_size=max(self.batch_rows, table.num_rows))
        self.rows[name] += table.num_rows
        self._cols[name] = {c: [] for c in SCHEMAS[name].names}
        self._buffered[name] = 0

    def close(self) -> dict[str, str]:
        """Write what is buffered and close the files (an empty table still gets its file)."""
        for name in PARSED_TABLES:
            self._flush(name)
            self._writer(name).close()
            _fsync(self._tmp[name])
        self._writers.clear()
        return {n: p.name for n, p in self._tmp.items()}

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


def _rewrite_without(path: Path, drop: pa.Array, tmp: Path, batch_rows: int) -> int:
    """Copy ``path`` to ``tmp`` without the rows of the report_ids in ``drop``; rows kept."""
    kept = 0
    schema = pq.read_schema(path)
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            t = pa.Table.from_batches([batch], schema=schema)
            t = t.filter(pc.invert(pc.is_in(t.column("report_id"), value_set=drop)))
            if t.num_rows:
                writer.write_table(t)
                kept += t.num_rows
    _fsync(tmp)
    return kept


@dataclass
class TableWriter:
    """A run's changes to ``reports``, ``cells`` and ``parse_errors``, visible all at once.

    New parts come from :class:`PartWriter` (:meth:`adopt`, as the parse workers write
    them) or from :meth:`add` (rows buffered into a part of the writer's own). ``replace``
    holds the report_ids parsed again: :meth:`commit` rewrites the parts that held their
    old rows without them. Leaving the block without committing (an exception) removes
    every temporary file and leaves the tables as they were.
    """

    parquet_dir: Path
    replace: set[str] = field(default_factory=set)
    batch_rows: int = 50_000
    rows: dict[str, int] = field(default_factory=dict)  # rows per table after the commit
    #: Remove temporary files a crashed run left. False when the parts to adopt were written
    #: before the writer was opened (by other processes or machines: steps of a distributed run).
    clean: bool = True
    _next: int = 1
    _new: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _local: PartWriter | None = None
    _committed: bool = False

    def __enter__(self) -> "TableWriter":
        self.parquet_dir.mkdir(parents=True, exist_ok=True)
        recover(self.parquet_dir)
        if self.clean:
            _remove_tmp(self.parquet_dir)
        self._next = next_part_number(self.parquet_dir)
        return self

    def next_part(self) -> int:
        """A part number for a new :class:`PartWriter`."""
        part, self._next = self._next, self._next + 1
        return part

    def adopt(self, part: int, files: dict[str, str]) -> None:
        """Take the temporary files of a closed :class:`PartWriter` into this commit."""
        self._new.append((part, files))

    def add(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        if self._local is None:
            self._local = PartWriter(self.parquet_dir, self.next_part(), self.batch_rows)
        self._local.add_rows(name, rows)

    def _drop_replaced(self) -> tuple[list[list[str]], list[str]]:
        """Renames and deletions that take the old rows of ``replace`` out of the stored parts."""
        renames: list[list[str]] = []
        deletes: list[str] = []
        drop = pa.array(sorted(self.replace), type=pa.string())
        new = {part for part, _ in self._new}
        files = {n: {_part_key(f): f for f in table_files(self.parquet_dir, n) if _part_key(f) not in new}
                 for n in PARSED_TABLES}
        for key in sorted(set(files["reports"]) | set(files["parse_errors"]), key=lambda k: -1 if k is None else k):
            ids: set[str] = set()
            for n in ("reports", "parse_errors"):
                if key in files[n]:
                    ids.update(pq.read_table(files[n][key], columns=["report_id"]).column("report_id").to_pylist())
            if not ids & self.replace:
                continue
            for n in PARSED_TABLES:
                path = files[n].get(key)
                if path is None:
                    continue
                if ids <= self.replace:  # every report of the part is parsed again: drop it unread
                    deletes.append(path.name)
                    continue
                tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp")
                if _rewrite_without(path, drop, tmp, self.batch_rows):
                    renames.append([tmp.name, path.name])
                else:
                    tmp.unlink()
                    deletes.append(path.name)
        return renames, deletes

    def commit(self) -> None:
        """Put the new parts in place and take out the replaced rows, through the journal."""
        if self._local is not None:
            self.adopt(self._local.part, self._local.close())
            self._local = None
        if not self._new and not tables_exist(self.parquet_dir):
            empty = PartWriter(self.parquet_dir, self.next_part(), self.batch_rows)
            self.adopt(empty.part, empty.close())  # every table has a file, even with no rows
        renames = [[tmp, part_name(n, part)] for part, files in self._new for n, tmp in files.items()]
        deletes: list[str] = []
        if self.replace:
            more, deletes = self._drop_replaced()
            renames += more
        plan = {"rename": renames, "delete": deletes}
        tmp = self.parquet_dir / f".{JOURNAL}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps(plan), encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, self.parquet_dir / JOURNAL)  # the commit point
        self._committed = True
        _apply(self.parquet_dir, plan)
        self.rows = table_rows(self.parquet_dir)

    def __exit__(self, *exc: object) -> None:
        if self._local is not None:
            self._local.abort()
        if not self._committed:
            for _, files in self._new:
                for tmp in files.values():
                    (self.parquet_dir / tmp).unlink(missing_ok=True)
            for tmp in self.parquet_dir.glob(".*.tmp"):
                if any(tmp.name.startswith(f".{n}") for n in PARSED_TABLES):
                    tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- parsing


@dataclass
class ParseRun:
    """What :func:`parse_pending` did."""

    parsed: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (source_file, report_id, reason)
    rows: dict[str, int] = field(default_factory=dict)  # rows of each table after the run
    changed: bool = False  # whether the tables were rewritten
    workers: int = 1  # processes that parsed (1 = this process)
    parts: int = 0  # parts added to each table


@dataclass(frozen=True)
class _Slice:
    """One task of a parse run: a slice of the pending reports, parsed into one part."""

    part: int
    items: tuple[PendingReport, ...]
    raw_dir: Path
    parquet_dir: Path
    parse: Callable[[Path], Report]
    parser_version: str
    now: datetime
    batch_rows: int


@dataclass
class _SliceResult:
    part: int
    files: dict[str, str]
    parsed: int
    failed: list[tuple[str, str, str]]


def _parse_one(task: _Slice, item: PendingReport) -> tuple[dict[str, Any] | None, dict[str, list[Any]] | None,
                                                           dict[str, Any] | None]:
    """(reports row, cells columns, None), or (None, None, parse_errors row)."""
    try:
        report = task.parse(task.raw_dir / item.raw_path)
    except ParseError as exc:
        return None, None, _error_row(item, exc.reason, task.parser_version, task.now)
    report.source = item.name  # the raw copy's name is its sha256; keep the user's name
    row = report_row(report, report_id=item.report_id, fmt=item.format, parser_version=task.parser_version,
                     parsed_at=task.now)
    return row, cell_columns(report, report_id=item.report_id), None


def _parse_item(args: tuple[_Slice, PendingReport]) -> tuple[Any, Any, Any]:
    return _parse_one(*args)


def _write_slice(task: _Slice, results: Iterable[tuple[PendingReport, tuple[Any, Any, Any]]]) -> _SliceResult:
    out = PartWriter(task.parquet_dir, task.part, task.batch_rows)
    parsed, failed = 0, []
    try:
        for item, (row, cells, error) in results:
            if error is not None:
                failed.append((item.name, item.report_id, error["error"]))
                out.add_rows("parse_errors", [error])
            else:
                out.add_rows("reports", [row])
                out.add_columns("cells", cells)
                parsed += 1
        files = out.close()
    except BaseException:
        out.abort()
        raise
    return _SliceResult(task.part, files, parsed, failed)


#: Generation-0 threshold of the cyclic garbage collector while a slice is parsed: parsing
#: allocates many short-lived objects and makes few cycles; the default (700) costs ~10%.
GC_THRESHOLD = 50_000


def _run_slice(task: _Slice) -> _SliceResult:
    """Parse a slice and write its part (in a worker process, or in this one)."""
    saved = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, saved[1], saved[2])
    try:
        return _write_slice(task, ((item, _parse_one(task, item)) for item in task.items))
    finally:
        gc.set_threshold(*saved)


def _isolated(task: _Slice) -> _SliceResult:
    """A slice whose worker died, again, one file per task: the file that kills its worker
    becomes a parse error (WORKER_DIED) instead of stopping the run."""
    from concurrent.futures.process import BrokenProcessPool

    state = {"ex": pool(1)}

    def results() -> Iterator[tuple[PendingReport, tuple[Any, Any, Any]]]:
        for item in task.items:
            try:
                yield item, state["ex"].submit(_parse_item, (task, item)).result()
            except BrokenProcessPool:
                state["ex"].shutdown(wait=True)
                state["ex"] = pool(1)
                yield item, (None, None, _error_row(item, WORKER_DIED, task.parser_version, task.now))

    try:
        return _write_slice(task, results())
    finally:
        state["ex"].shutdown(wait=True, cancel_futures=True)


def _run_slices(tasks: list[_Slice], workers: int) -> Iterator[_SliceResult]:
    """Every slice's result, in order; ``workers`` processes, a bounded window of slices in flight."""
    if workers <= 1:
        yield from map(_run_slice, tasks)
        return
    from concurrent.futures.process import BrokenProcessPool

    todo = deque(tasks)
    while todo:
        window: deque = deque()
        broken: _Slice | None = None
        ex = pool(workers)
        try:
            while todo or window:
                while todo and len(window) < 2 * workers + 1:
                    task = todo.popleft()
                    window.append((task, ex.submit(_run_slice, task)))
                task, future = window[0]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = task
                    break
                window.popleft()
                yield result
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        if broken is not None:  # a worker died: its slice file by file, then the rest as before
            rest = [t for t, _ in window]
            for t in rest:
                _remove_tmp(t.parquet_dir, t.part)
            yield _isolated(broken)
            todo.extendleft(reversed(rest[1:]))


def _picklable(fn: Callable[..., Any]) -> bool:
    try:
        pickle.dumps(fn)
    except Exception:  # a local function or a lambda: it can only run in this process
        return False
    return True


def slice_size(pending: int) -> int:
    """Reports per slice (per part) for a run of ``pending`` reports."""
    return max(SLICE_MIN, min(SLICE_MAX, -(-pending // SLICES_PER_RUN)))


def parse_pending(
    pending: list[PendingReport],
    *,
    raw_dir: Path,
    parquet_dir: Path,
    parse: Callable[[Path], Report],
    parser_version: str,
    now: datetime | None = None,
    batch_rows: int = 50_000,
    progress: Callable[[int, int, PendingReport], None] | None = None,
    workers: int | None = None,
    slice_reports: int | None = None,
) -> ParseRun:
    """Parse ``pending`` from the raw copies and add them to the three tables (module docstring).

    ``workers``: processes that parse (default ``$OGI_PARSE_WORKERS``, else every core);
    a run of a single slice, or a ``parse`` that cannot be pickled (a local function),
    runs in this process. ``slice_reports`` overrides the slice size. The tables do not
    depend on the number of workers. ``progress(done, total, last)`` is called after
    every slice. Nothing pending and all tables present: nothing is written at all.
    """
    now = now or utcnow()
    run = ParseRun()
    parquet_dir.mkdir(parents=True, exist_ok=True)
    recover(parquet_dir)
    if not pending and tables_exist(parquet_dir):
        run.rows = table_rows(parquet_dir)
        return run
    size = slice_reports or slice_size(len(pending))
    chunks = [tuple(pending[i:i + size]) for i in range(0, len(pending), size)]
    n = parse_workers(workers)
    run.workers = min(n, len(chunks)) if n > 1 and len(chunks) > 1 and _picklable(parse) else 1
    done = 0
    with TableWriter(parquet_dir, replace={p.report_id for p in pending}, batch_rows=batch_rows) as out:
        tasks = [_Slice(out.next_part(), c, raw_dir, parquet_dir, parse, parser_version, now, batch_rows)
                 for c in chunks]
        for task, result in zip(tasks, _run_slices(tasks, run.workers)):
            out.adopt(result.part, result.files)
            run.parsed += result.parsed
            run.failed += result.failed
            done += len(task.items)
            if progress:
                progress(done, len(pending), task.items[-1])
        out.commit()
        run.rows = dict(out.rows)
    run.parts = len(tasks)
    run.changed = True
    return run


def _error_row(item: PendingReport, reason: str, parser_version: str, now: datetime) -> dict[str, Any]:
    return {
        "report_id": item.report_id,
        "source_file": item.name,
        "format": item.format,
        "error": reason,
        "parser_version": parser_version,
        "parsed_at": now,
    }
