"""Parallel parsing (ingestion/parse_run.py, ingestion/workers.py): the same tables as a serial run.

A synthetic inbox is parsed in this process and by a pool of worker processes, in
several slices (parts); the Parquet tables hold the same rows. Also: the columnar
cell rows match ingestion/schema.py, a worker that dies costs one file, and a commit
cut short is finished by the next run.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion import PARSER_VERSION, inventory, parse_run, parts
from ingestion.parse import parse_file, sniff_format
from ingestion.record import ErrorKind
from ingestion.schema import SCHEMAS, cell_columns, cell_rows
from ingestion.synthetic.synth import write_corpus

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
BAD = {"empty.txt": b"", "junk.bin": bytes(range(256)) * 8}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    write_corpus(corpus, 36, seed=11, break_share=0.1)
    for name, data in BAD.items():
        (corpus / "reports" / name).write_bytes(data)
    return corpus / "reports"


def home_with_inventory(root: Path, inbox: Path) -> dict[str, Path]:
    home = {"raw": root / "raw", "parquet": root / "parquet"}
    inventory.take_inventory(inbox, home["raw"], home["parquet"] / "inventory.parquet", sniff_format)
    return home


def parse(home: dict[str, Path], *, workers: int, slice_reports: int | None, parse_fn=parse_file,
          version: str = PARSER_VERSION) -> parse_run.ParseRun:
    pending = parse_run.plan_parse(home["parquet"] / "inventory.parquet", home["raw"],
                               parts.parsed_versions(home["parquet"]), version)
    return parse_run.parse_pending(pending, raw_dir=home["raw"], parquet_dir=home["parquet"], parse=parse_fn,
                               parser_version=version, now=NOW, workers=workers, slice_reports=slice_reports,
                               batch_rows=500)


def rows(parquet_dir: Path) -> dict[str, list[tuple]]:
    """Every row of every parsed table, sorted."""
    return {name: sorted(tuple(r.values()) for r in parts.read_parsed(parquet_dir, name).to_pylist())
            for name in parts.PARSED_TABLES}


def test_parallel_parse_gives_the_serial_tables(inbox: Path, tmp_path: Path) -> None:
    serial = home_with_inventory(tmp_path / "serial", inbox)
    one_part = home_with_inventory(tmp_path / "one_part", inbox)
    parallel = home_with_inventory(tmp_path / "parallel", inbox)
    s = parse(serial, workers=1, slice_reports=7)
    o = parse(one_part, workers=2, slice_reports=None)  # a single slice: parsed by one worker process
    p = parse(parallel, workers=2, slice_reports=7)
    assert (s.workers, o.workers, p.workers) == (1, 1, 2)
    assert (s.in_workers, o.in_workers, p.in_workers) == (False, True, True)
    assert s.parts == p.parts == 6 and o.parts == 1
    assert (p.parsed, len(p.failed)) == (36, 2)
    assert sorted(p.failed) == sorted(s.failed)
    assert p.rows == s.rows == o.rows
    expected = rows(serial["parquet"])
    assert rows(parallel["parquet"]) == expected
    assert rows(one_part["parquet"]) == expected
    assert len(expected["reports"]) == 36 and len(expected["parse_errors"]) == 2
    # the same slices make the same parts, byte for byte, whoever parsed them
    for name in parts.PARSED_TABLES:
        a = parts.table_files(serial["parquet"], name)
        b = parts.table_files(parallel["parquet"], name)
        assert [f.name for f in a] == [f.name for f in b]
        assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b]


def test_workers_are_an_argument_read_from_the_settings_by_the_application(monkeypatch) -> None:
    from ingestion.workers import parse_workers
    from orchestration import settings

    cores = len(os.sched_getaffinity(0))
    monkeypatch.setenv("OGI_PARSE_WORKERS", "3")
    assert parse_workers() == parse_workers(0) == cores  # ingestion reads no environment
    assert parse_workers(settings.PARSE_WORKERS.get() or None) == 3 and parse_workers(2) == 2
    monkeypatch.setenv("OGI_PARSE_WORKERS", "0")
    assert parse_workers(settings.PARSE_WORKERS.get() or None) == cores


def test_cell_columns_are_the_schema_cell_rows(inbox: Path) -> None:
    for path in sorted(inbox.rglob("*.txt"))[:5]:
        report = parse_file(path)
        columns = cell_columns(report, report_id="r")
        assert pa.Table.from_pydict(columns, schema=SCHEMAS["cells"]).to_pylist() == cell_rows(report, report_id="r")


def test_reparsing_some_reports_replaces_only_their_rows(inbox: Path, tmp_path: Path) -> None:
    home = home_with_inventory(tmp_path, inbox)
    parse(home, workers=2, slice_reports=7)
    before = rows(home["parquet"])
    pending = parse_run.plan_parse(home["parquet"] / "inventory.parquet", home["raw"], {}, "2")
    some = pending[5:12]  # spans two old parts, neither completely
    run = parse_run.parse_pending(some, raw_dir=home["raw"], parquet_dir=home["parquet"], parse=parse_file,
                              parser_version="2", now=NOW, workers=1)
    assert run.parsed + len(run.failed) == 7
    after = parts.read_parsed(home["parquet"], "reports").to_pylist()
    ids = [r["report_id"] for r in after]
    assert len(ids) == len(set(ids)) == 36
    assert sorted(r["report_id"] for r in after if r["parser_version"] == "2") == sorted(p.report_id for p in some)
    cells = parts.read_parsed(home["parquet"], "cells", columns=["report_id"]).column("report_id").to_pylist()
    assert len(cells) == len(before["cells"])  # the old cells of the re-parsed reports are gone
    assert parts.table_rows(home["parquet"]) == {k: len(v) for k, v in before.items()}


def die_on_junk(path: Path):
    """A parser that kills its process on one file (a segfault, the OOM killer)."""
    if path.read_bytes() == BAD["junk.bin"]:
        os._exit(3)
    return parse_file(path)


def test_a_worker_that_dies_costs_one_file(inbox: Path, tmp_path: Path) -> None:
    home = home_with_inventory(tmp_path, inbox)
    run = parse(home, workers=2, slice_reports=7, parse_fn=die_on_junk)
    assert run.workers == 2 and run.parsed == 36
    reasons = {f.source_file: (f.error, f.error_kind) for f in run.failed}
    assert reasons["junk.bin"] == (parse_run.WORKER_DIED, ErrorKind.WORKER_DIED)
    assert "empty" in reasons["empty.txt"][0] and reasons["empty.txt"][1] is ErrorKind.UNREADABLE
    errors = {r["source_file"]: r["error_kind"] for r in parts.read_parsed(home["parquet"], "parse_errors").to_pylist()}
    assert errors == {"junk.bin": "worker_died", "empty.txt": "unreadable"}
    assert len(parts.read_parsed(home["parquet"], "reports")) == 36
    assert not list(home["parquet"].glob(".*.tmp"))


def test_a_commit_cut_short_is_finished_by_the_next_run(inbox: Path, tmp_path: Path, monkeypatch) -> None:
    home = home_with_inventory(tmp_path, inbox)
    real_apply = parts._apply

    def crash(parquet_dir: Path, plan: dict) -> None:  # power cut right after the commit point
        os.replace(parquet_dir / plan["rename"][0][0], parquet_dir / plan["rename"][0][1])
        raise KeyboardInterrupt

    monkeypatch.setattr(parts, "_apply", crash)
    with pytest.raises(KeyboardInterrupt):
        parse(home, workers=1, slice_reports=7)
    assert (home["parquet"] / parts.JOURNAL).exists()
    monkeypatch.setattr(parts, "_apply", real_apply)
    assert len(parts.parsed_versions(home["parquet"])) == 38  # reading recovers the commit first
    assert not (home["parquet"] / parts.JOURNAL).exists()
    assert parts.table_rows(home["parquet"])["reports"] == 36
    again = parse(home, workers=1, slice_reports=7)
    assert (again.parsed, again.changed) == (0, False)


def test_unfinished_run_leaves_no_trace(inbox: Path, tmp_path: Path) -> None:
    home = home_with_inventory(tmp_path, inbox)
    parse(home, workers=1, slice_reports=None)
    state = {f.name: f.read_bytes() for f in home["parquet"].iterdir()}

    def boom(path: Path):
        raise RuntimeError("parser bug")

    with pytest.raises(RuntimeError):
        parse_run.parse_pending(parse_run.plan_parse(home["parquet"] / "inventory.parquet", home["raw"], {}, "9"),
                            raw_dir=home["raw"], parquet_dir=home["parquet"], parse=boom, parser_version="9",
                            workers=1, slice_reports=7)
    assert {f.name: f.read_bytes() for f in home["parquet"].iterdir()} == state


def test_a_file_over_the_workers_memory_ceiling_is_a_too_large_error(tmp_path: Path) -> None:
    """Each parse worker has a memory ceiling: a file that needs more (an HTML table of 2 million cells:
    ~550 MB) becomes a per-file error, and the worker goes on with the next file."""
    from ingestion.synthetic.synth import write_corpus

    write_corpus(tmp_path / "corpus", 2, seed=3)
    inbox = tmp_path / "corpus" / "reports"
    row = "<tr>" + "<td>1</td>" * 20 + "</tr>\n"
    (inbox / "table.html").write_text("<html><body><table>" + row * (10 * 2**20 // len(row)) + "</table></body></html>")
    home = home_with_inventory(tmp_path / "home", inbox)
    pending = parse_run.plan_parse(home["parquet"] / "inventory.parquet", home["raw"], {}, PARSER_VERSION)
    run = parse_run.parse_pending(pending, raw_dir=home["raw"], parquet_dir=home["parquet"], parse=parse_file,
                                  parser_version=PARSER_VERSION, now=NOW, workers=2, memory_mb=300)
    assert run.in_workers and run.parsed == 2
    [failure] = run.failed
    assert failure.source_file == "table.html" and failure.error_kind is ErrorKind.TOO_LARGE
    assert failure.error == "needs more than the 300 MB of memory a parse worker may use (too large or too complex to read)"
