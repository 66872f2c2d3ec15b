"""Parsing what the inventory holds: which reports to parse, and the worker processes that parse them.

Pure functions over folders and files, no Dagster import: the asset ``parsed_reports``
(``orchestration/defs/ingestion.py``) calls them, and so can a test or a script.

* :func:`plan_parse` picks the reports still to parse: every sha256 of the inventory
  (:mod:`ingestion.inventory`) whose stored parse (in ``reports`` or ``parse_errors``,
  :func:`ingestion.parts.parsed_versions`) was made by another parser version, or never
  made.
* :func:`parse_pending` parses them from their raw copies, a slice of about
  ``len(pending) / 16`` reports per task, in worker processes (:mod:`ingestion.workers`;
  one worker even for a single slice, so that a hostile file never takes the caller's
  memory: each worker has a memory ceiling), and adds each slice as one new part of the
  three tables (:mod:`ingestion.parts`), committed all at once.  A file whose parsing
  kills its worker process becomes a parse error, not a failed run.
"""
from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from .inventory import read_inventory, utcnow
from .parts import PartWriter, TableWriter, recover, remove_part_temps, table_rows, tables_exist
from .record import ErrorKind, ParseError, Report
from .schema import cell_columns, error_row, report_row
from .workers import parse_workers, picklable, pool

#: Reports per slice, i.e. per part of each table: about 1/SLICES_PER_RUN of a run, within bounds.
SLICES_PER_RUN = 16
SLICE_MIN = 250
SLICE_MAX = 5_000
#: The reason recorded for a file whose parsing killed its worker process.
WORKER_DIED = "the parser's worker process died on this file (a crash, or out of memory)"


@dataclass(frozen=True, slots=True)
class PendingReport:
    """A report (one sha256) to parse, from its raw copy."""

    report_id: str
    name: str  # the file name it was first seen under: the record's source
    format: str
    raw_path: str  # relative to the raw folder


def plan_parse(inventory_path: Path, raw_dir: Path, done: dict[str, str], parser_version: str) -> list[PendingReport]:
    """Every sha256 of the inventory with a raw copy and no parse by ``parser_version``."""
    rows = read_inventory(inventory_path).sort_by([("first_seen", "ascending"), ("path", "ascending")])
    pending: dict[str, PendingReport] = {}
    for r in rows.to_pylist():
        sha = r["sha256"]
        if sha in pending or done.get(sha) == parser_version:
            continue
        if not (raw_dir / r["raw_path"]).exists():
            continue  # the raw copy was deleted by hand: nothing left to parse
        pending[sha] = PendingReport(sha, r["name"], r["format"], r["raw_path"])
    return list(pending.values())


class Failure(NamedTuple):
    """A file that could not be parsed (its ``parse_errors`` row, in short)."""

    source_file: str
    report_id: str
    error: str
    error_kind: ErrorKind


@dataclass
class ParseRun:
    """What :func:`parse_pending` did."""

    parsed: int = 0
    failed: list[Failure] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows of each table after the run
    changed: bool = False  # whether the tables were rewritten
    workers: int = 1  # processes that parsed
    in_workers: bool = False  # whether they were worker processes (False: this process)
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
    failed: list[Failure]


def _parse_one(task: _Slice, item: PendingReport) -> tuple[dict[str, Any] | None, dict[str, list[Any]] | None,
                                                           dict[str, Any] | None]:
    """(reports row, cells columns, None), or (None, None, parse_errors row)."""
    try:
        report = task.parse(task.raw_dir / item.raw_path)
    except ParseError as exc:
        return None, None, error_row(item.report_id, item.name, item.format, exc.reason, exc.kind,
                                     parser_version=task.parser_version, parsed_at=task.now)
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
                failed.append(Failure(item.name, item.report_id, error["error"], ErrorKind(error["error_kind"])))
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


def _isolated(task: _Slice, memory_mb: float | None = None) -> _SliceResult:
    """A slice whose worker died, again, one file per task: the file that kills its worker
    becomes a parse error (WORKER_DIED) instead of stopping the run."""
    from concurrent.futures.process import BrokenProcessPool

    state = {"ex": pool(1, memory_mb=memory_mb)}

    def results() -> Iterator[tuple[PendingReport, tuple[Any, Any, Any]]]:
        for item in task.items:
            try:
                yield item, state["ex"].submit(_parse_item, (task, item)).result()
            except BrokenProcessPool:
                state["ex"].shutdown(wait=True)
                state["ex"] = pool(1, memory_mb=memory_mb)
                yield item, (None, None, error_row(item.report_id, item.name, item.format, WORKER_DIED,
                                                   ErrorKind.WORKER_DIED, parser_version=task.parser_version,
                                                   parsed_at=task.now))

    try:
        return _write_slice(task, results())
    finally:
        state["ex"].shutdown(wait=True, cancel_futures=True)


def _run_slices(tasks: list[_Slice], workers: int, memory_mb: float | None = None) -> Iterator[_SliceResult]:
    """Every slice's result, in order; ``workers`` worker processes (0: this process), a bounded
    window of slices in flight."""
    if workers <= 0:
        yield from map(_run_slice, tasks)
        return
    from concurrent.futures.process import BrokenProcessPool

    todo = deque(tasks)
    while todo:
        window: deque = deque()
        broken: _Slice | None = None
        ex = pool(workers, memory_mb=memory_mb)
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
                remove_part_temps(t.parquet_dir, t.part)
            yield _isolated(broken, memory_mb)
            todo.extendleft(reversed(rest[1:]))


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
    memory_mb: float | None = None,
) -> ParseRun:
    """Parse ``pending`` from the raw copies and add them to the three tables (:mod:`ingestion.parts`).

    ``workers``: processes that parse (None or 0: every core; 1: this process); a
    ``parse`` that cannot be pickled (a local function) runs in this process.  Worker
    processes each hold at most ``memory_mb`` of memory (a file that needs more is a
    ``too_large`` parse error).  ``slice_reports`` overrides the slice size. The tables do
    not depend on the number of workers. ``progress(done, total, last)`` is called after
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
    processes = min(n, len(chunks)) if n > 1 and chunks and picklable(parse) else 0
    run.workers, run.in_workers = max(processes, 1), processes > 0
    done = 0
    with TableWriter(parquet_dir, replace={p.report_id for p in pending}, batch_rows=batch_rows) as out:
        tasks = [_Slice(out.next_part(), c, raw_dir, parquet_dir, parse, parser_version, now, batch_rows)
                 for c in chunks]
        for task, result in zip(tasks, _run_slices(tasks, processes, memory_mb)):
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
