"""The inbox taken in: what files there are, their raw copies, and the inventory.

Pure functions over folders and files, no Dagster import: the asset ``raw_reports``
(``orchestration/defs/ingestion.py``) calls :func:`take_inventory`, and so can a test
or a script.

:func:`take_inventory` lists an inbox, hashes every new or changed file (sha256 of its
bytes, which is also its ``report_id``), sniffs its format and copies it,
content-addressed, to ``raw/ab/<sha256>.<ext>``: nothing a user drops in is lost, even
when it never parses.  A file is read and copied a megabyte at a time, whatever its size.

The inbox is read as the files below it, nothing else (:func:`list_inbox`): a symbolic
link is followed only to a regular file inside the inbox (listed under its real path);
links that lead out of the inbox or to folders, special files (pipes, sockets,
devices) and folders named like a report file are skipped, each with the reason, which
the run lists.  The inventory (``inventory.parquet``) keeps one row per (path,
sha256) ever seen, so an unchanged file is never hashed twice.  What is parsed from the
raw copies, and where it is kept: :mod:`ingestion.parse_run`, :mod:`ingestion.parts`.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import incoming_path, remove_temp_files, write_bytes_atomic, write_parquet_atomic
from .workers import ordered_map, parse_workers, picklable

#: Files an inbox holds that are not reports (yet): hidden files, editors' lock files,
#: downloads in progress.
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download")

#: File name endings of reports: a folder named like this is skipped, not walked (``x.pdf/``).
REPORT_SUFFIXES = (".txt", ".text", ".md", ".htm", ".html", ".shtml", ".xhtml", ".pdf", ".docx", ".doc", ".wps")

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


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the inbox that is not read, and why."""

    location: str  # its path in the inbox
    reason: str


@dataclass
class InboxListing:
    """What :func:`list_inbox` found: the files to read, and what it skipped."""

    entries: list[InboxEntry]
    skipped: list[Skipped]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "a device"
    return "not a regular file"


def _through_link(path: str, root: str) -> InboxEntry | Skipped:
    """A symbolic link in the inbox: its target when that is a regular file inside the inbox."""
    target = os.path.realpath(path)
    if not _inside(target, root):
        return Skipped(path, f"symbolic link to {target}, outside the inbox: not followed")
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        return Skipped(path, "broken symbolic link")
    except OSError as exc:  # a loop of links, permission
        return Skipped(path, f"symbolic link that cannot be followed ({exc.strerror})")
    if stat.S_ISDIR(st.st_mode):
        return Skipped(path, "symbolic link to a folder: not followed")
    if not stat.S_ISREG(st.st_mode):
        return Skipped(path, f"symbolic link to {_special(st.st_mode)}, not a file")
    return InboxEntry(target, st.st_size, st.st_mtime_ns)


def list_inbox(inbox: Path) -> InboxListing:
    """Every candidate file below ``inbox`` (hidden files and folders ignored), sorted by path,
    and what was skipped.

    Paths are absolute, below the inbox's resolved path.  A symbolic link is followed only
    to a regular file inside the inbox, and listed under the real path of that file (once,
    however many links lead to it); every other link, special file and folder named like a
    report file (:data:`REPORT_SUFFIXES`) is skipped with its reason.
    """
    entries: dict[str, InboxEntry] = {}
    skipped: list[Skipped] = []
    if not inbox.is_dir():
        return InboxListing([], [])
    root = str(inbox.resolve())
    todo = [root]
    while todo:
        folder = todo.pop()
        try:
            listing = list(os.scandir(folder))
        except PermissionError:
            skipped.append(Skipped(folder, "folder cannot be read (permission denied)"))
            continue
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in listing:
            name = entry.name
            if name.startswith("."):
                continue  # hidden files and folders, our own temporary files
            try:
                if entry.is_symlink():
                    if not is_candidate(name):
                        continue
                    found = _through_link(entry.path, root)
                    if isinstance(found, Skipped):
                        skipped.append(found)
                    elif is_candidate(os.path.basename(found.location)):
                        entries[found.location] = found
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if name.lower().endswith(REPORT_SUFFIXES):
                        skipped.append(Skipped(entry.path, "a folder named like a report file: not read"))
                    else:
                        todo.append(entry.path)
                    continue
                if not is_candidate(name):
                    continue
                st = entry.stat(follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):  # removed while we looked
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(Skipped(entry.path, f"{_special(st.st_mode)}, not a file"))
                continue
            entries[entry.path] = InboxEntry(entry.path, st.st_size, st.st_mtime_ns)
    skipped.sort(key=lambda s: s.location)
    return InboxListing(sorted(entries.values(), key=lambda e: e.location), skipped)


def scan_inbox(inbox: Path) -> list[InboxEntry]:
    """The files :func:`list_inbox` reads, sorted by path."""
    return list_inbox(inbox).entries


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
    skipped: list[Skipped] = field(default_factory=list)  # what the inbox holds that was not read, and why


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
#: Bytes read, hashed and copied at a time.
COPY_STEP = 1024 * 1024


class _NotRead(Exception):
    """A listed file that turned out not to be one to read (swapped for a link, a pipe, ...)."""


def _open_below(location: str, root: str) -> int:
    """Open a listed file for reading: a regular file, really inside ``root``, never through a link."""
    try:
        fd = os.open(location, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise _NotRead("permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _NotRead("became a symbolic link while the inbox was read: not followed") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotRead(f"{_special(st.st_mode)}, not a file")
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # no /proc: the path was checked when listed
            real = location
        if not _inside(real, root):
            raise _NotRead(f"leads to {real}, outside the inbox: not read")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _copy_in(location: str, root: str, raw_dir: Path) -> tuple[str, Path, int]:
    """Stream a file into a temporary file in ``raw_dir``: (sha256, temporary path, size)."""
    fd = _open_below(location, root)
    digest = hashlib.sha256()
    size = 0
    tmp = incoming_path(raw_dir)
    try:
        with os.fdopen(fd, "rb", buffering=0) as src, open(tmp, "wb") as out:
            while chunk := src.read(COPY_STEP):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), tmp, size


def _hash_and_store(args: tuple[list[InboxEntry], Path, Callable[[Any], str], str]
                    ) -> list[tuple[InboxEntry, str, str, str, int, bool] | Skipped | None]:
    """Read, hash, sniff and copy a chunk of files: (entry, sha256, format, raw path, size, stored),
    a :class:`Skipped` for a file not to read, None for a file gone meanwhile."""
    entries, raw_dir, sniff, root = args
    raw_dir.mkdir(parents=True, exist_ok=True)
    out: list[tuple[InboxEntry, str, str, str, int, bool] | Skipped | None] = []
    for entry in entries:
        try:
            sha, tmp, size = _copy_in(entry.location, root, raw_dir)
        except FileNotFoundError:
            out.append(None)
            continue
        except _NotRead as why:
            out.append(Skipped(entry.location, str(why)))
            continue
        try:
            fmt = sniff(tmp)
            rel = raw_relpath(sha, entry.name, fmt)
            target = raw_dir / rel
            stored = not (target.exists() and target.stat().st_size == size)
            if stored:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        out.append((entry, sha, fmt, rel, size, stored))
    return out


def take_inventory(
    inbox: Path,
    raw_dir: Path,
    inventory_path: Path,
    sniff: Callable[[Any], str],
    now: datetime | None = None,
    workers: int | None = None,
) -> Inventory:
    """List ``inbox``, hash and copy what is new, and rewrite ``inventory.parquet``.

    New and changed files are read, hashed and copied by ``workers`` processes (default:
    every core) when there are many.  ``sniff`` gives a file's format from its path
    (:func:`ingestion.formats.sniff_format`).
    """
    now = now or utcnow()
    remove_temp_files(inventory_path.parent, lambda final: final == inventory_path.name)
    remove_temp_files(raw_dir, recursive=True)  # copies an interrupted run left half written
    old = read_inventory(inventory_path).to_pylist()
    by_key = {(r["path"], r["sha256"]): r for r in old}
    latest: dict[str, dict[str, Any]] = {}  # path -> its most recent row
    for row in old:
        prev = latest.get(row["path"])
        if prev is None or row["last_seen"] >= prev["last_seen"]:
            latest[row["path"]] = row
    known_shas = {r["sha256"] for r in old}

    inbox_listing = list_inbox(inbox)
    listing = inbox_listing.entries
    skipped = list(inbox_listing.skipped)
    root = str(inbox.resolve())
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
    chunks = [(to_hash[i:i + _HASH_CHUNK], raw_dir, sniff, root) for i in range(0, len(to_hash), _HASH_CHUNK)]
    new_files = hashed = stored = 0
    for done in ordered_map(_hash_and_store, chunks, n if parallel else 1):
        for item in done:
            if item is None:
                continue
            if isinstance(item, Skipped):
                skipped.append(item)
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
    skipped.sort(key=lambda s: s.location)
    return Inventory(entries=seen, new_files=new_files, hashed=hashed, stored=stored, total_rows=len(rows),
                     skipped=skipped)
