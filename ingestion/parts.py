"""Where parsed reports are kept: each parsed table as a set of Parquet parts.

The parser fills three tables, ``reports``, ``cells`` and ``parse_errors`` (schemas in
:mod:`ingestion.schema`).  Each is a set of parts, ``parquet/<table>-<part>.parquet``
(the dbt sources read ``<table>*.parquet``, :func:`table_glob`); a run adds one part
per slice of its reports to each of the three tables (the same part number in the
three), written by the worker that parsed the slice (:class:`PartWriter`), streamed in
row groups of ``batch_rows`` rows: memory stays at one batch per worker whatever the
size of the tables, and a nightly run costs what is new, not what is stored.  A report
parsed again (a new parser version) drops its old rows: the parts that held them are
rewritten without them.

:class:`TableWriter` makes a run's changes visible all at once: parts are written
under temporary names (:mod:`ingestion.atomic`'s naming rule), then a journal
(``.commit.json``) lists the renames and deletions, which are applied and the journal
removed; a crash in between is finished by the next run (:func:`recover`), so a
reader never sees half a run.  No Dagster import; which reports to parse and the
worker processes that parse them are in :mod:`ingestion.parse_run`.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .atomic import final_name, fsync_path, remove_temp_files, temp_path, write_bytes_atomic
from .schema import SCHEMAS

#: The tables the parser fills, in the order they are written.
PARSED_TABLES = ("reports", "cells", "parse_errors")
#: The journal of a commit in progress (see :func:`recover`).
JOURNAL = ".commit.json"

_PART = re.compile(r"-(\d+)\.parquet$")
#: The files of the parsed tables: parts, and a whole-table file (older homes, the dbt tests).
_TABLE_FILE = re.compile(rf"^(?:{'|'.join(PARSED_TABLES)})(?:-\d+)?\.parquet$")


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
    """All of table ``name`` (every part) as one Arrow table; empty with its schema when there is none.

    Parts written by an older parser may lack a column added since (``parse_errors.error_kind``):
    it reads as null there, as in the dbt sources (``union_by_name``).
    """
    files = table_files(parquet_dir, name)
    if not files:
        empty = SCHEMAS[name].empty_table()
        return empty.select(columns) if columns else empty
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files], promote_options="default")


def tables_exist(parquet_dir: Path) -> bool:
    return all(table_files(parquet_dir, n) for n in PARSED_TABLES)


def table_rows(parquet_dir: Path) -> dict[str, int]:
    """Row counts of the parsed tables, from the Parquet footers."""
    return {n: sum(pq.ParquetFile(f).metadata.num_rows for f in table_files(parquet_dir, n)) for n in PARSED_TABLES}


def parsed_versions(parquet_dir: Path) -> dict[str, str]:
    """report_id -> parser_version of every stored parse, successful or not."""
    recover(parquet_dir)
    done: dict[str, str] = {}
    for name in ("reports", "parse_errors"):
        for path in table_files(parquet_dir, name):
            t = pq.read_table(path, columns=["report_id", "parser_version"])
            done.update(zip(t.column("report_id").to_pylist(), t.column("parser_version").to_pylist()))
    return done


# --------------------------------------------------------------------------- the journal


def _apply(parquet_dir: Path, plan: dict[str, list]) -> None:
    """Carry out a commit's renames and deletions (again, if need be: every step is idempotent)."""
    for tmp, final in plan["rename"]:
        if (parquet_dir / tmp).exists():
            os.replace(parquet_dir / tmp, parquet_dir / final)
    for name in plan["delete"]:
        (parquet_dir / name).unlink(missing_ok=True)
    fsync_path(parquet_dir)
    (parquet_dir / JOURNAL).unlink(missing_ok=True)
    fsync_path(parquet_dir)


class BrokenJournal(ValueError):
    """The commit journal cannot be read, or names files that are not the tables' (a damaged
    or foreign file): it is not applied.  :func:`ingestion.repair.check_store` sets it aside."""


def read_journal(journal: Path) -> dict[str, list]:
    """The plan of a commit journal, checked: renames of the tables' temporary files onto
    their parts, deletions of parts, nothing else.  Raises :class:`BrokenJournal`."""
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise BrokenJournal(f"{journal}: {exc}") from None

    def table_file(name: object) -> bool:
        return isinstance(name, str) and "/" not in name and _TABLE_FILE.match(name) is not None

    ok = (isinstance(plan, dict) and set(plan) == {"rename", "delete"}
          and isinstance(plan["rename"], list) and isinstance(plan["delete"], list)
          and all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and "/" not in pair[0]
                  and final_name(pair[0]) == pair[1] and table_file(pair[1]) for pair in plan["rename"])
          and all(table_file(name) for name in plan["delete"]))
    if not ok:
        raise BrokenJournal(f"{journal}: not a plan of renames and deletions of the parsed tables' files")
    return plan


def recover(parquet_dir: Path) -> bool:
    """Finish a commit a crash interrupted (its journal is there); True when there was one.

    Raises :class:`BrokenJournal` when the journal is damaged (nothing is applied then).
    """
    journal = parquet_dir / JOURNAL
    if not journal.exists():
        return False
    _apply(parquet_dir, read_journal(journal))
    return True


def is_table_file(name: str) -> bool:
    """Whether ``name`` is a file of the parsed tables (a part, a whole table) or the journal."""
    return name == JOURNAL or _TABLE_FILE.match(name) is not None


def remove_part_temps(parquet_dir: Path, part: int | None = None) -> int:
    """Remove the temporary files a crashed or failed writer left for the parsed tables
    (of one ``part``, or all, the journal's included); how many."""
    if part is None:
        return len(remove_temp_files(parquet_dir, is_table_file))
    finals = {part_name(n, part) for n in PARSED_TABLES}
    return len(remove_temp_files(parquet_dir, finals.__contains__))


# --------------------------------------------------------------------------- writing


class PartWriter:
    """One part of each parsed table, streamed in row groups of ``batch_rows`` rows into
    temporary files; :meth:`close` returns their names for :meth:`TableWriter.adopt`."""

    def __init__(self, parquet_dir: Path, part: int, batch_rows: int = 50_000) -> None:
        self.parquet_dir = parquet_dir
        self.part = part
        self.batch_rows = batch_rows
        self.rows = {n: 0 for n in PARSED_TABLES}
        self._tmp = {n: temp_path(parquet_dir / part_name(n, part)) for n in PARSED_TABLES}
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
            fsync_path(self._tmp[name])
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
    fsync_path(tmp)
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
            remove_part_temps(self.parquet_dir)
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
                tmp = temp_path(path)
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
        journal = self.parquet_dir / JOURNAL
        try:
            write_bytes_atomic(json.dumps(plan).encode("utf-8"), journal)  # the commit point
        finally:
            # once the journal is in place the commit has happened, even if what follows its
            # rename failed: its temporary files must stay for _apply (now, or recover later)
            self._committed = journal.exists()
        _apply(self.parquet_dir, plan)
        self.rows = table_rows(self.parquet_dir)

    def __exit__(self, *exc: object) -> None:
        if self._local is not None:
            self._local.abort()
        if not self._committed:
            for _, files in self._new:
                for tmp in files.values():
                    (self.parquet_dir / tmp).unlink(missing_ok=True)
            remove_part_temps(self.parquet_dir)
