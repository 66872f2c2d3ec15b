"""ingestion/repair.py: the Parquet store checks itself and heals from the raw copies.

Each test damages a real store the way the fault probe did (a part deleted, truncated,
overwritten, a journal damaged, a report stored twice) and checks that one check plus
the run's usual parse leaves the same tables a clean run makes, and names the files.
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ingestion import PARSER_VERSION, inventory, parse_run, parts
from ingestion.parse import parse_file, sniff_format
from ingestion.repair import CHECKED, check_store
from ingestion.synthetic.synth import write_corpus

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """A store of 21 synthetic reports and a junk file in three parts, parsed once."""
    root = tmp_path_factory.mktemp("clean")
    write_corpus(root / "corpus", 21, seed=5)
    (root / "corpus" / "reports" / "junk.bin").write_bytes(bytes(range(256)) * 8)
    inventory.take_inventory(root / "corpus" / "reports", root / "raw", root / "parquet" / "inventory.parquet",
                             sniff_format)
    heal_and_parse(root)
    assert [p.name for p in parts.table_files(root / "parquet", "reports")] == [
        parts.part_name("reports", k) for k in (1, 2, 3)]
    return root


def heal_and_parse(root: Path):
    """What a run does: check the store, then parse whatever has no parse."""
    check = check_store(root / "parquet", root / "damaged", now=NOW)
    pending = parse_run.plan_parse(root / "parquet" / "inventory.parquet", root / "raw",
                                   parts.parsed_versions(root / "parquet"), PARSER_VERSION)
    run = parse_run.parse_pending(pending, raw_dir=root / "raw", parquet_dir=root / "parquet", parse=parse_file,
                                  parser_version=PARSER_VERSION, now=NOW, workers=1, slice_reports=8)
    return check, run


def rows(root: Path) -> dict[str, list[tuple]]:
    """Every row of the parsed tables, sorted (equal to a clean run's when the store is whole)."""
    return {name: sorted(tuple(r.values()) for r in parts.read_parsed(root / "parquet", name).to_pylist())
            for name in parts.PARSED_TABLES}


@pytest.fixture
def store(clean: Path, tmp_path: Path) -> Path:
    shutil.copytree(clean, tmp_path / "home")
    return tmp_path / "home"


def part(root: Path, table: str, k: int) -> Path:
    return root / "parquet" / parts.part_name(table, k)


def assert_whole(root: Path, clean: Path) -> None:
    assert rows(root) == rows(clean)
    again = check_store(root / "parquet", root / "damaged", now=NOW)  # reads the new part whole, once
    assert again.healthy, again.lines()
    assert check_store(root / "parquet", root / "damaged", now=NOW).read_whole == 0


def test_a_healthy_store_is_read_whole_once(store: Path) -> None:
    assert not (store / "parquet" / CHECKED).exists()  # the store was never checked with its parts
    first = check_store(store / "parquet", store / "damaged")
    assert first.healthy and (first.parts, first.read_whole) == (3, 3)
    second = check_store(store / "parquet", store / "damaged")
    assert second.healthy and (second.parts, second.read_whole) == (3, 0)
    assert not (store / "damaged").exists()


def test_missing_reports_part_is_healed_without_duplicate_cells(store: Path, clean: Path) -> None:
    """The probe's case: reports-000002 deleted; re-parsing its reports must not leave cells-000002."""
    part(store, "reports", 2).unlink()
    check, run = heal_and_parse(store)
    [finding] = check.findings
    assert finding.files == [parts.part_name("cells", 2), parts.part_name("parse_errors", 2)]
    assert "reports-000002.parquet is missing" in finding.problem and "parsed again" in finding.action
    assert sorted(p.name for p in (check.moved_to).iterdir()) == finding.files  # kept, not deleted
    assert run.parsed == 8 and not run.failed
    assert_whole(store, clean)


def test_missing_cells_part_is_noticed_at_once(store: Path, clean: Path) -> None:
    part(store, "cells", 1).unlink()
    check, run = heal_and_parse(store)
    [finding] = check.findings
    assert "cells-000001.parquet is missing" in finding.problem and check.dropped == 8
    assert run.parsed == 8
    assert_whole(store, clean)


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_corrupt_part_is_named_and_healed(store: Path, clean: Path, damage: str) -> None:
    victim = part(store, "cells", 3)
    if damage == "truncated":
        os.truncate(victim, victim.stat().st_size // 2)
    else:  # same size, bytes changed in the middle: only reading the pages finds it
        data = bytearray(victim.read_bytes())
        data[len(data) // 3: len(data) // 3 + 512] = os.urandom(512)
        victim.write_bytes(bytes(data))
    check, run = heal_and_parse(store)
    [finding] = check.findings
    assert "cells-000003.parquet cannot be read" in finding.problem, finding
    assert run.parsed + len(run.failed) == 6  # part 3: 5 reports and the junk file
    assert_whole(store, clean)


def test_broken_journal_is_set_aside_and_its_commit_parsed_again(store: Path, clean: Path) -> None:
    """A journal cut short by a bad disk: set aside, and the reports of the commit it held parsed again."""
    # the state a crash leaves: part 3 renamed into place, part 2's rename still to do, journal damaged
    for table in parts.PARSED_TABLES:
        os.replace(part(store, table, 2), store / "parquet" / f".{parts.part_name(table, 2)}.0badf00d.tmp")
    (store / "parquet" / parts.JOURNAL).write_bytes(b'{"rename": [[".reports-000002.parq')
    with pytest.raises(parts.BrokenJournal):
        parts.parsed_versions(store / "parquet")  # nothing applies a damaged journal
    check, run = heal_and_parse(store)
    assert [f.files for f in check.findings] == [[parts.JOURNAL]]
    assert "journal is damaged" in check.findings[0].problem
    assert not list((store / "parquet").glob(".*.tmp"))
    assert run.parsed == 8
    assert_whole(store, clean)


def test_a_journal_naming_other_files_is_not_applied(store: Path, clean: Path) -> None:
    """The journal only renames and deletes the tables' own files: never the inventory, never outside."""
    inventory_bytes = (store / "parquet" / "inventory.parquet").read_bytes()
    plan = {"rename": [], "delete": ["inventory.parquet", "../raw", parts.part_name("cells", 1)]}
    (store / "parquet" / parts.JOURNAL).write_text(json.dumps(plan))
    check, run = heal_and_parse(store)
    assert "journal is damaged" in check.findings[0].problem
    assert (store / "parquet" / "inventory.parquet").read_bytes() == inventory_bytes
    assert part(store, "cells", 1).exists() and run.parsed == 0
    assert_whole(store, clean)


def test_a_report_stored_twice_is_stored_once(store: Path, clean: Path) -> None:
    for table in parts.PARSED_TABLES:  # part 1 copied as part 7: its 8 reports twice
        shutil.copy(part(store, table, 1), part(store, table, 7))
    check, run = heal_and_parse(store)
    [finding] = check.findings
    assert "8 reports are stored more than once" in finding.problem
    assert parts.part_name("reports", 7) in finding.files and parts.part_name("reports", 1) in finding.files
    assert run.parsed == 8
    assert_whole(store, clean)


def test_finishing_an_interrupted_commit_is_reported(store: Path, clean: Path) -> None:
    plan = {"rename": [], "delete": []}
    (store / "parquet" / parts.JOURNAL).write_text(json.dumps(plan))
    check, _ = heal_and_parse(store)
    assert [str(f) for f in check.findings] == [".commit.json: a commit was interrupted (a crash or a kill); "
                                                "finished from its journal"]
    assert_whole(store, clean)
