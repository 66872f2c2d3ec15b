"""The inbox taken in: what files there are, their raw copies, and the inventory.

Pure functions over folders and files, no Dagster import: the asset ``raw_reports``
(``orchestration/defs/ingestion.py``) calls :func:`take_inventory`, and so can a test
or a script.

:func:`take_inventory` lists an inbox, hashes every new or changed file (sha256 of its
bytes, which is also its ``report_id``), sniffs its format and copies it,
content-addressed, to ``raw/ab/<sha256>.<ext>``: nothing a user drops in is lost, even
when it never parses.  The inventory (``inventory.parquet``) keeps one row per (path,
sha256) ever seen, so an unchanged file is never hashed twice.  What is parsed from the
raw copies, and where it is kept: :mod:`ingestion.parse_run`, :mod:`ingestion.parts`.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import remove_temp_files, write_bytes_atomic, write_parquet_atomic
from .workers import ordered_map, parse_workers, picklable

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
        ("format", pa.string()),  # ingestion.formats.sniff_format
        ("raw_path", pa.string()),  # the raw copy, relative to the raw folder
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)


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
    write_bytes_atomic(data, target, fsync=fsync)
    return True


def read_inventory(path: Path) -> pa.Table:
    """``inventory.parquet``, or an empty inventory when there is none yet."""
    if not path.exists():
        return INVENTORY_SCHEMA.empty_table()
    return pq.read_table(path)


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

    New and changed files are read, hashed and copied by ``workers`` processes (default:
    every core) when there are many.
    """
    now = now or utcnow()
    remove_temp_files(inventory_path.parent, lambda final: final == inventory_path.name)
    old = read_inventory(inventory_path).to_pylist()
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
    parallel = n > 1 and len(to_hash) >= MIN_PARALLEL_HASH and picklable(sniff)
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
    write_parquet_atomic(pa.Table.from_pylist(rows, schema=INVENTORY_SCHEMA), inventory_path)
    return Inventory(entries=seen, new_files=new_files, hashed=hashed, stored=stored, total_rows=len(rows))
