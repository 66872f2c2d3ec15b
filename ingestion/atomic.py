"""Writing files so that a reader sees the old version or the new one, never half of one.

Every file the project writes in place of another (raw copies, Parquet tables and
parts, the commit journal, the published warehouse) is first written to a temporary
file beside it and then renamed over it: a rename within a folder is atomic, and a
reader that has the old file open keeps reading the old file.

One naming rule for every temporary file: ``.<final file name>.<8 hex digits>.tmp``,
in the folder of the final file.  Hidden (a leading dot), so that a glob such as
``cells*.parquet`` or an inbox scan never picks one up, and named after its final
file, so that :func:`remove_temp_files` can find what a crashed writer left behind
and tell whose it was.  A file whose final name is known only once it is written (a
raw copy is named by the hash of its bytes) is written as ``.incoming.<8 hex>.tmp`` in
the parent folder of its final folder (:func:`incoming_path`), by the same rule.

Every folder the project writes is swept of these files at the start of the next run
(``orchestration/home_check.py``), so a run killed at any moment leaves nothing behind
for longer than until the next run.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: ``.<final file name>.<8 hex digits>.tmp``: the name of every temporary file (:func:`temp_path`).
TEMP_NAME = re.compile(r"^\.(?P<final>.+)\.[0-9a-f]{8}\.tmp$")


def temp_path(target: Path) -> Path:
    """A new temporary path beside ``target``, by the naming rule."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


def incoming_path(folder: Path) -> Path:
    """A new temporary path in ``folder`` for a file whose final name is not known yet."""
    return temp_path(folder / "incoming")


def final_name(name: str) -> str | None:
    """The name of the file a temporary file becomes, or None when ``name`` is no temporary file."""
    m = TEMP_NAME.match(name)
    return m.group("final") if m else None


def fsync_path(path: Path) -> None:
    """fsync a file, or a folder (its entries: a rename in it is then durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: Path, *, fsync: bool = True, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` to write; renamed over ``target`` when the block succeeds.

    With ``fsync`` the file and then its folder are flushed to disk, so that the new
    version survives a power cut once the block has returned; ``fsync=False`` leaves
    durability to the caller (one ``os.sync()`` after a batch of files costs far less
    than one fsync per file).  ``mode``: the permission bits the file gets before it
    is renamed into place (``0o444``: read-only on disk).  When the block raises, the
    temporary file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        if fsync:
            fsync_path(tmp)
        os.replace(tmp, target)
        if fsync:
            fsync_path(target.parent)
    finally:
        tmp.unlink(missing_ok=True)  # nothing left after the rename; the partial file after a failure


def write_bytes_atomic(data: bytes, target: Path, *, fsync: bool = True) -> None:
    """Replace ``target`` with ``data`` (:func:`atomic_path`)."""
    with atomic_path(target, fsync=fsync) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def write_parquet_atomic(table: Any, target: Path, **options: Any) -> None:
    """Replace ``target`` with a Parquet file of the Arrow ``table`` (``options`` go to ``pq.write_table``)."""
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, **options)


def copy_file_atomic(source: Path, target: Path, *, mode: int | None = None) -> None:
    """Replace ``target`` with a copy of ``source`` (:func:`atomic_path`; ``mode`` as there)."""
    with atomic_path(target, mode=mode) as tmp:
        shutil.copyfile(source, tmp)


def remove_temp_files(folder: Path, belongs: Callable[[str], bool] | None = None, *,
                      recursive: bool = False) -> list[Path]:
    """Remove the temporary files a crashed or failed writer left in ``folder`` (with
    ``recursive``, in every folder below it too; hidden folders and symbolic links are
    not entered).

    Every file named by the rule, or, with ``belongs``, those whose final file name
    ``belongs(name)`` accepts.  Returns the files removed.  Only for a folder no other
    writer is writing at the same time: its temporary files would go too.
    """
    removed: list[Path] = []
    todo = [Path(folder)]
    while todo:
        current = todo.pop()
        try:
            entries = list(os.scandir(current))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            final = final_name(entry.name)
            if final is None:
                if recursive and not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                    todo.append(Path(entry.path))
                continue
            if belongs is not None and not belongs(final):
                continue
            try:
                os.unlink(entry.path)
            except (FileNotFoundError, IsADirectoryError, PermissionError):
                continue
            removed.append(Path(entry.path))
    return removed
