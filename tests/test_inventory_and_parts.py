"""ingestion/inventory.py, parts.py and parse_run.py: inventory, raw copies, Parquet parts, incremental parsing."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion import PARSER_VERSION, inventory, parse_run, parts
from ingestion.parse import parse_file, sniff_format
from ingestion.record import ErrorKind, ParseError, Report
from ingestion.schema import SCHEMAS

from fixture_paths import SEEDS


@pytest.fixture
def home(tmp_path: Path) -> dict[str, Path]:
    dirs = {"inbox": tmp_path / "inbox", "raw": tmp_path / "raw", "parquet": tmp_path / "parquet"}
    dirs["inbox"].mkdir()
    dirs["inventory"] = dirs["parquet"] / "inventory.parquet"
    return dirs


def take(home: dict[str, Path]) -> inventory.Inventory:
    return inventory.take_inventory(home["inbox"], home["raw"], home["inventory"], sniff_format)


def parse_all(home: dict[str, Path], parse=parse_file, version: str = PARSER_VERSION) -> parse_run.ParseRun:
    done = parts.parsed_versions(home["parquet"])
    pending = parse_run.plan_parse(home["inventory"], home["raw"], done, version)
    return parse_run.parse_pending(pending, raw_dir=home["raw"], parquet_dir=home["parquet"], parse=parse, parser_version=version)


def file_state(folder: Path) -> dict[str, tuple[int, str]]:
    """file -> (mtime_ns, sha256) of every part of the parsed tables: equal when nothing was rewritten."""
    files = [f for name in parts.PARSED_TABLES for f in parts.table_files(folder, name)]
    return {f.name: (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files}


def test_scan_skips_hidden_and_partial_files(home) -> None:
    inbox = home["inbox"]
    (inbox / "a.txt").write_text("a")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "b.pdf").write_bytes(b"%PDF")
    for name in (".hidden", "~$lock.docx", "c.txt.part", "d.crdownload", "e.tmp"):
        (inbox / name).write_text("x")
    (inbox / ".git").mkdir()
    (inbox / ".git" / "f.txt").write_text("x")
    assert [e.path.relative_to(inbox.resolve()).as_posix() for e in inventory.scan_inbox(inbox)] == ["a.txt", "sub/b.pdf"]


def test_fingerprint_changes_when_a_file_lands(home) -> None:
    inbox = home["inbox"]
    (inbox / "a.txt").write_text("a")
    before = inventory.fingerprint(inventory.scan_inbox(inbox))
    assert inventory.fingerprint(inventory.scan_inbox(inbox)) == before
    (inbox / "b.txt").write_text("b")
    after = inventory.fingerprint(inventory.scan_inbox(inbox))
    assert after != before and after.startswith("2:")


def test_inventory_copies_every_file_content_addressed(home) -> None:
    inbox = home["inbox"]
    shutil.copy(SEEDS[0], inbox / "first.txt")
    shutil.copy(SEEDS[0], inbox / "same_bytes.txt")  # same content, one raw copy
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "junk.bin").write_bytes(bytes(range(256)) * 8)

    inv = take(home)
    assert (len(inv.entries), inv.new_files, inv.hashed, inv.stored) == (4, 3, 4, 3)
    for row in inv.entries:
        copy = home["raw"] / row["raw_path"]
        data = Path(row["path"]).read_bytes()
        assert copy.read_bytes() == data
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["raw_path"].startswith(row["sha256"][:2] + "/")
    formats = {r["name"]: (r["format"], Path(r["raw_path"]).suffix) for r in inv.entries}
    assert formats["first.txt"] == ("text", ".txt")
    assert formats["junk.bin"] == (sniff_format(bytes(range(256)) * 8), ".bin")

    again = take(home)  # unchanged files are not read again
    assert (again.new_files, again.hashed, again.stored, again.total_rows) == (0, 0, 0, 4)

    (inbox / "first.txt").write_bytes(SEEDS[1].read_bytes())  # the same path with new content
    changed = take(home)
    assert (changed.new_files, changed.hashed, changed.stored, changed.total_rows) == (1, 1, 1, 5)


def test_inventory_restores_a_deleted_raw_copy(home) -> None:
    shutil.copy(SEEDS[0], home["inbox"])
    row = take(home).entries[0]
    (home["raw"] / row["raw_path"]).unlink()
    assert take(home).stored == 1
    assert (home["raw"] / row["raw_path"]).exists()


def test_parse_is_incremental_and_tables_stay_identical(home) -> None:
    for seed in SEEDS[:3]:
        shutil.copy(seed, home["inbox"])
    (home["inbox"] / "empty.txt").write_bytes(b"")
    take(home)
    first = parse_all(home)
    assert (first.parsed, len(first.failed), first.changed) == (3, 1, True)
    assert first.failed[0][0] == "empty.txt"
    with pytest.raises(ParseError) as bad:
        parse_file(home["inbox"] / "empty.txt")
    assert first.failed[0][2] == bad.value.reason and first.failed[0].error_kind is bad.value.kind
    [error] = parts.read_parsed(home["parquet"], "parse_errors").to_pylist()
    assert (error["error"], error["error_kind"]) == (bad.value.reason, "unreadable")
    reports = parts.read_parsed(home["parquet"], "reports")
    assert sorted(reports.column("source_file").to_pylist()) == sorted(s.name for s in SEEDS[:3])
    assert first.rows["cells"] == parts.read_parsed(home["parquet"], "cells").num_rows > 0
    state = file_state(home["parquet"])

    take(home)
    second = parse_all(home)
    assert (second.parsed, second.failed, second.changed) == (0, [], False)
    assert second.rows == first.rows
    assert file_state(home["parquet"]) == state

    shutil.copy(SEEDS[3], home["inbox"])
    take(home)
    third = parse_all(home)
    assert (third.parsed, third.failed) == (1, [])
    assert third.rows["reports"] == first.rows["reports"] + 1
    assert third.rows["parse_errors"] == 1
    changed = {name for name, state_ in file_state(home["parquet"]).items() if state.get(name) != state_}
    assert changed == {parts.part_name(n, 2) for n in parts.PARSED_TABLES}  # a new part; the old ones untouched


def test_new_parser_version_replaces_old_rows(home) -> None:
    """A new parser version parses everything again; a file that failed may now succeed."""
    for seed in SEEDS[:2]:
        shutil.copy(seed, home["inbox"])
    take(home)

    def picky(path: Path) -> Report:  # "version 0": cannot read the second seed
        report = parse_file(path)
        if report.agency == parse_file(SEEDS[1]).agency:
            raise ParseError(path.name, "unsupported layout", ErrorKind.NOT_A_REPORT)
        return report

    old = parse_all(home, parse=picky, version="0")
    assert (old.parsed, len(old.failed)) == (1, 1)

    new = parse_all(home, version="1")
    assert (new.parsed, new.failed) == (2, [])
    reports = parts.read_parsed(home["parquet"], "reports").to_pylist()
    assert sorted(r["report_id"] for r in reports) == sorted({r["report_id"] for r in reports})
    assert {r["parser_version"] for r in reports} == {"1"}
    assert parts.read_parsed(home["parquet"], "parse_errors").num_rows == 0
    cells = parts.read_parsed(home["parquet"], "cells", columns=["report_id"]).column("report_id").to_pylist()
    expected = sum(len(list(parse_file(s).iter_cells())) for s in SEEDS[:2])
    assert len(cells) == expected  # no cell of the old parse left behind


def test_unfinished_write_leaves_the_old_tables(home) -> None:
    shutil.copy(SEEDS[0], home["inbox"])
    take(home)
    parse_all(home)
    state = file_state(home["parquet"])
    with pytest.raises(RuntimeError):
        with parts.TableWriter(home["parquet"], replace=set()) as out:
            out.add("reports", [])
            raise RuntimeError("power cut")
    assert file_state(home["parquet"]) == state
    assert not list(home["parquet"].glob(".*.tmp"))


def test_tables_are_written_in_batches(home) -> None:
    for seed in SEEDS:
        shutil.copy(seed, home["inbox"])
    take(home)
    pending = parse_run.plan_parse(home["inventory"], home["raw"], {}, PARSER_VERSION)
    run = parse_run.parse_pending(
        pending, raw_dir=home["raw"], parquet_dir=home["parquet"], parse=parse_file,
        parser_version=PARSER_VERSION, batch_rows=300,
    )
    [part] = parts.table_files(home["parquet"], "cells")
    cells = pq.ParquetFile(part)
    assert cells.metadata.num_row_groups > 1
    assert cells.metadata.num_rows == run.rows["cells"] == sum(len(list(parse_file(s).iter_cells())) for s in SEEDS)
    assert cells.schema_arrow == SCHEMAS["cells"]


def test_empty_inbox_still_writes_empty_tables(home) -> None:
    take(home)
    run = parse_all(home)
    assert run.rows == {"reports": 0, "cells": 0, "parse_errors": 0}
    for name, schema in SCHEMAS.items():
        assert [pq.read_schema(f) for f in parts.table_files(home["parquet"], name)] == [schema]


def test_the_inbox_is_read_as_the_files_below_it(home, tmp_path) -> None:
    """Links lead nowhere outside the inbox; special files and folders named like reports are skipped, with reasons."""
    import os

    inbox = home["inbox"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the warehouse")
    shutil.copy(SEEDS[0], inbox / "report.txt")
    (inbox / "sub").mkdir()
    shutil.copy(SEEDS[1], inbox / "sub" / "other.txt")
    os.symlink("/etc/passwd", inbox / "passwd.txt")
    os.symlink(outside / "secret.txt", inbox / "secret.txt")
    os.symlink(outside, inbox / "outside_folder")
    os.symlink("sub", inbox / "inside_folder")  # a folder, even inside: not walked twice
    os.symlink("sub/other.txt", inbox / "alias.txt")  # a file inside: read once, under its real path
    os.symlink("nowhere.txt", inbox / "broken.txt")
    (inbox / "folder.pdf").mkdir()
    (inbox / "folder.pdf" / "inside.txt").write_text("x")
    os.mkfifo(inbox / "pipe.txt")
    listing = inventory.list_inbox(inbox)
    root = inbox.resolve()
    assert [e.path.relative_to(root).as_posix() for e in listing.entries] == ["report.txt", "sub/other.txt"]
    assert {Path(s.location).name: s.reason for s in listing.skipped} == {
        "passwd.txt": "symbolic link to /etc/passwd, outside the inbox: not followed",
        "secret.txt": f"symbolic link to {outside / 'secret.txt'}, outside the inbox: not followed",
        "outside_folder": f"symbolic link to {outside}, outside the inbox: not followed",
        "inside_folder": "symbolic link to a folder: not followed",
        "broken.txt": "broken symbolic link",
        "folder.pdf": "a folder named like a report file: not read",
        "pipe.txt": "a named pipe (FIFO), not a file",
    }
    inv = take(home)  # the pipe is never opened (that would block), /etc/passwd never read
    assert sorted(r["name"] for r in inv.entries) == ["other.txt", "report.txt"]
    assert len(inv.skipped) == 7
    copies = [p.read_bytes() for p in home["raw"].rglob("*") if p.is_file()]
    assert sorted(copies) == sorted([SEEDS[0].read_bytes(), SEEDS[1].read_bytes()])


def test_a_file_swapped_for_a_link_after_listing_is_not_read(home, tmp_path) -> None:
    """Between the listing and the read a file becomes a link out of the inbox: it is skipped, not followed."""
    import os

    target = tmp_path / "outside.txt"
    target.write_text("outside")
    shutil.copy(SEEDS[0], home["inbox"] / "a.txt")
    [entry] = inventory.scan_inbox(home["inbox"])
    (home["inbox"] / "a.txt").unlink()
    os.symlink(target, home["inbox"] / "a.txt")
    [result] = inventory._hash_and_store(([entry], home["raw"], sniff_format, str(home["inbox"].resolve())))
    assert isinstance(result, inventory.Skipped) and "symbolic link" in result.reason
    assert not [p for p in home["raw"].rglob("*") if p.is_file()]


def test_large_files_are_copied_a_step_at_a_time(home) -> None:
    """The inventory streams a file into its raw copy: the same bytes, whatever the size, and no temporary left."""
    data = bytes(range(256)) * (3 * inventory.COPY_STEP // 256 + 7)
    (home["inbox"] / "big.bin").write_bytes(data)
    [row] = take(home).entries
    assert (home["raw"] / row["raw_path"]).read_bytes() == data
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
    assert [p.name for p in home["raw"].rglob(".*")] == []
