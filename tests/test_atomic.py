"""ingestion/atomic.py: one way to replace a file, one name for every temporary file, one clean-up."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.atomic import (
    TEMP_NAME,
    atomic_path,
    copy_file_atomic,
    final_name,
    remove_temp_files,
    temp_path,
    write_bytes_atomic,
    write_parquet_atomic,
)
from ingestion.inventory import store_raw
from ingestion.parts import PARSED_TABLES, PartWriter, TableWriter, part_name, remove_part_temps
from ingestion.schema import SCHEMAS


def test_temp_files_are_named_after_their_final_file(tmp_path: Path) -> None:
    tmp = temp_path(tmp_path / "cells-000004.parquet")
    assert tmp.parent == tmp_path and TEMP_NAME.match(tmp.name)
    assert tmp.name.startswith(".cells-000004.parquet.") and tmp.name.endswith(".tmp")
    assert len(tmp.name) == len(".cells-000004.parquet.") + 8 + len(".tmp")
    assert final_name(tmp.name) == "cells-000004.parquet"
    assert final_name(temp_path(tmp_path / ".commit.json").name) == ".commit.json"
    for other in ("cells-000004.parquet", ".cells-000004.abc.tmp", "notes.tmp", ".x.1234567.tmp"):
        assert final_name(other) is None


def test_write_parquet_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    write_parquet_atomic(SCHEMAS["reports"].empty_table(), target)
    before = target.stat().st_ino
    time.sleep(0.01)
    write_parquet_atomic(SCHEMAS["reports"].empty_table(), target)
    assert target.stat().st_ino != before  # a new file renamed over, never rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
    assert os.access(target, os.R_OK)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "data.bin"
    write_bytes_atomic(b"old", target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]
    with pytest.raises(pa.ArrowException):
        write_parquet_atomic(pa.table({"a": [1]}), target, compression="no such codec")
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"] and target.read_bytes() == b"old"


def test_copy_and_raw_copies(tmp_path: Path) -> None:
    source = tmp_path / "source.duckdb"
    source.write_bytes(b"warehouse")
    copy_file_atomic(source, tmp_path / "out" / "warehouse.duckdb")
    assert (tmp_path / "out" / "warehouse.duckdb").read_bytes() == b"warehouse"
    raw = tmp_path / "raw" / "ab" / "abc.txt"
    assert store_raw(b"report", raw, fsync=False) and not store_raw(b"report", raw)
    assert sorted(p.name for p in raw.parent.iterdir()) == ["abc.txt"]


def test_remove_temp_files_finds_every_temp_by_the_rule(tmp_path: Path) -> None:
    keep = ["cells-000001.parquet", "notes.tmp", ".hidden", "inventory.parquet"]
    for name in keep:
        (tmp_path / name).write_text("x")
    temps = [temp_path(tmp_path / n) for n in ("inventory.parquet", "cells-000004.parquet", ".commit.json")]
    for t in temps:
        t.write_text("partial")
    assert remove_temp_files(tmp_path, lambda final: final == "inventory.parquet") == [temps[0]]
    assert sorted(remove_temp_files(tmp_path)) == sorted(temps[1:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
    assert remove_temp_files(tmp_path / "missing") == []


def test_parts_left_by_a_crash_are_removed(tmp_path: Path) -> None:
    """A worker killed while it wrote its part leaves temporary files: the next writer removes them."""
    crashed = PartWriter(tmp_path, 4, batch_rows=1)
    crashed.add_rows("parse_errors", [{c: None for c in SCHEMAS["parse_errors"].names}])  # flushed: a file exists
    left = [p.name for p in tmp_path.iterdir()]
    assert left and all(final_name(n) == part_name("parse_errors", 4) for n in left)
    other = temp_path(tmp_path / part_name("cells", 5))
    other.write_text("partial")
    assert remove_part_temps(tmp_path, 4) == 1 and other.exists()
    crashed._writers.clear()  # (the crashed process never closed its writer)
    crashed = PartWriter(tmp_path, 6, batch_rows=1)
    crashed.add_rows("reports", [{c: None for c in SCHEMAS["reports"].names}])
    with TableWriter(tmp_path) as out:  # opening a writer cleans up
        assert sorted(p.name for p in tmp_path.iterdir()) == []
        out.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(part_name(n, 1) for n in PARSED_TABLES)
