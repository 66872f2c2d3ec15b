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
* :class:`TableWriter` rewrites ``reports``, ``cells`` and ``parse_errors`` as one
  Parquet file each, streaming: the rows kept from the old file, then the new rows
  batch by batch, into a temporary file that replaces the old one (``os.replace``)
  only when all three are complete. Memory stays at one batch, whatever the size of
  the tables. A report parsed again (new parser version) replaces its old rows.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .record import ParseError, Report
from .schema import SCHEMAS, cell_rows, report_row

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

    path: Path
    size: int
    mtime_ns: int


def is_candidate(name: str) -> bool:
    """Whether a file name can be a report (not hidden, not a download in progress)."""
    return not name.startswith(IGNORED_PREFIXES) and not name.lower().endswith(IGNORED_SUFFIXES)


def scan_inbox(inbox: Path) -> list[InboxEntry]:
    """Every candidate file below ``inbox`` (hidden folders skipped), sorted by path."""
    entries: list[InboxEntry] = []
    if not inbox.is_dir():
        return entries
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not is_candidate(name):
                continue
            path = Path(folder, name)
            try:
                st = path.stat()
            except FileNotFoundError:  # removed while we looked
                continue
            entries.append(InboxEntry(path.resolve(), st.st_size, st.st_mtime_ns))
    entries.sort(key=lambda e: str(e.path))
    return entries


def fingerprint(entries: Iterable[InboxEntry]) -> str:
    """A short digest of an inbox listing (paths, sizes, mtimes): changes when a file lands."""
    digest = hashlib.sha256()
    count = 0
    for e in entries:
        digest.update(f"{e.path}\0{e.size}\0{e.mtime_ns}\n".encode())
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


def store_raw(data: bytes, target: Path) -> bool:
    """Write ``data`` to ``target`` unless it is there already; atomic. True when written."""
    if target.exists() and target.stat().st_size == len(data):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
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


def take_inventory(
    inbox: Path,
    raw_dir: Path,
    inventory_path: Path,
    sniff: Callable[[bytes], str],
    now: datetime | None = None,
) -> Inventory:
    """List ``inbox``, hash and copy what is new, and rewrite ``inventory.parquet``."""
    now = now or utcnow()
    old = read_table(inventory_path, INVENTORY_SCHEMA).to_pylist()
    by_key = {(r["path"], r["sha256"]): r for r in old}
    latest: dict[str, dict[str, Any]] = {}  # path -> its most recent row
    for row in old:
        prev = latest.get(row["path"])
        if prev is None or row["last_seen"] >= prev["last_seen"]:
            latest[row["path"]] = row
    known_shas = {r["sha256"] for r in old}

    seen: list[dict[str, Any]] = []
    new_files = hashed = stored = 0
    for entry in scan_inbox(inbox):
        path = str(entry.path)
        prev = latest.get(path)
        unchanged = prev is not None and prev["size"] == entry.size and prev["mtime_ns"] == entry.mtime_ns
        if unchanged and (raw_dir / prev["raw_path"]).exists():
            row = dict(prev, last_seen=now)
        else:
            try:
                data = entry.path.read_bytes()
            except FileNotFoundError:
                continue
            hashed += 1
            sha = hashlib.sha256(data).hexdigest()
            fmt = sniff(data)
            rel = raw_relpath(sha, entry.path.name, fmt)
            stored += store_raw(data, raw_dir / rel)
            first = by_key.get((path, sha), {}).get("first_seen") or now
            row = {
                "path": path,
                "name": entry.path.name,
                "size": len(data),
                "mtime_ns": entry.mtime_ns,
                "sha256": sha,
                "format": fmt,
                "raw_path": rel,
                "first_seen": first,
                "last_seen": now,
            }
            if sha not in known_shas:
                new_files += 1
                known_shas.add(sha)
        by_key[(row["path"], row["sha256"])] = row
        seen.append(row)

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
    done: dict[str, str] = {}
    for name in ("reports", "parse_errors"):
        path = parquet_dir / f"{name}.parquet"
        if path.exists():
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


# --------------------------------------------------------------------------- writing


@dataclass
class TableWriter:
    """Stream-rewrite ``reports``, ``cells`` and ``parse_errors``; see the module docstring.

    ``replace`` holds the report_ids whose old rows are dropped (they are parsed again).
    Use as a context manager and call :meth:`commit` at the end; leaving the block
    without committing (an exception) leaves the old files as they were.
    """

    parquet_dir: Path
    replace: set[str] = field(default_factory=set)
    batch_rows: int = 50_000
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    _writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)
    _tmp: dict[str, Path] = field(default_factory=dict)
    _buffers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __enter__(self) -> "TableWriter":
        self.parquet_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(self.parquet_dir, (f"{n}.parquet" for n in PARSED_TABLES))
        drop = pa.array(sorted(self.replace), type=pa.string())
        for name in PARSED_TABLES:
            schema = SCHEMAS[name]
            target = self.parquet_dir / f"{name}.parquet"
            self._tmp[name] = tmp = _tmp_beside(target)
            self._writers[name] = pq.ParquetWriter(tmp, schema, compression="zstd")
            self._buffers[name] = []
            self.rows[name] = 0
            if target.exists():
                for batch in pq.ParquetFile(target).iter_batches(batch_size=self.batch_rows):
                    old = pa.Table.from_batches([batch])
                    if len(drop):
                        old = old.filter(pc.invert(pc.is_in(old.column("report_id"), value_set=drop)))
                    if old.num_rows:
                        self._write(name, old.select(schema.names).cast(schema))
        return self

    def _write(self, name: str, table: pa.Table) -> None:
        self._writers[name].write_table(table)
        self.rows[name] += table.num_rows

    def _flush(self, name: str) -> None:
        buffer = self._buffers[name]
        if buffer:
            self._write(name, pa.Table.from_pylist(buffer, schema=SCHEMAS[name]))
            buffer.clear()

    def add(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        buffer = self._buffers[name]
        buffer.extend(rows)
        if len(buffer) >= self.batch_rows:
            self._flush(name)

    def commit(self) -> None:
        """Close the temporary files and put all three in place."""
        for name in PARSED_TABLES:
            self._flush(name)
            self._writers.pop(name).close()
            _fsync(self._tmp[name])
        for name in PARSED_TABLES:
            os.replace(self._tmp.pop(name), self.parquet_dir / f"{name}.parquet")

    def __exit__(self, *exc: object) -> None:
        for writer in self._writers.values():
            writer.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- parsing


@dataclass
class ParseRun:
    """What :func:`parse_pending` did."""

    parsed: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (source_file, report_id, reason)
    rows: dict[str, int] = field(default_factory=dict)  # rows of each table after the run
    changed: bool = False  # whether the tables were rewritten


def tables_exist(parquet_dir: Path) -> bool:
    return all((parquet_dir / f"{n}.parquet").exists() for n in PARSED_TABLES)


def table_rows(parquet_dir: Path) -> dict[str, int]:
    """Row counts of the parsed tables, from the Parquet footers."""
    return {
        n: pq.ParquetFile(parquet_dir / f"{n}.parquet").metadata.num_rows if (parquet_dir / f"{n}.parquet").exists() else 0
        for n in PARSED_TABLES
    }


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
) -> ParseRun:
    """Parse ``pending`` from the raw copies into the three tables (see :class:`TableWriter`).

    Nothing pending and all tables present: nothing is rewritten, the files stay byte-identical.
    """
    now = now or utcnow()
    run = ParseRun()
    if not pending and tables_exist(parquet_dir):
        run.rows = table_rows(parquet_dir)
        return run
    with TableWriter(parquet_dir, replace={p.report_id for p in pending}, batch_rows=batch_rows) as out:
        for i, item in enumerate(pending):
            if progress:
                progress(i, len(pending), item)
            try:
                report = parse(raw_dir / item.raw_path)
            except ParseError as exc:
                run.failed.append((item.name, item.report_id, exc.reason))
                out.add("parse_errors", [_error_row(item, exc.reason, parser_version, now)])
                continue
            report.source = item.name  # the raw copy's name is its sha256; keep the user's name
            out.add(
                "reports",
                [report_row(report, report_id=item.report_id, fmt=item.format, parser_version=parser_version, parsed_at=now)],
            )
            out.add("cells", cell_rows(report, report_id=item.report_id))
            run.parsed += 1
        out.commit()
        run.rows = dict(out.rows)
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

