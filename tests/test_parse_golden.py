"""Every bundled real report parses to exactly its hand-checked golden record."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.parse import parse_bytes, parse_file

from fixture_paths import GOLDEN_DIR, REALWORLD_GOLDEN_DIR, SAMPLES, real_report

CASES = [
    (SAMPLES / g.name.replace(".json", ".txt"), g) for g in sorted(GOLDEN_DIR.glob("*.json"))
] + [
    (real_report(g.name[: -len(".json")]), g) for g in sorted(REALWORLD_GOLDEN_DIR.glob("*.json"))
]
CONTRACT_KEYS = ("source", "agency", "year", "template", "applications", "reviews", "proactive")


@pytest.mark.parametrize("path,golden", CASES, ids=[c[0].name for c in CASES])
def test_parses_to_golden(path: Path, golden: Path) -> None:
    expected = json.loads(golden.read_text(encoding="utf-8"))
    got = parse_file(path).to_json()
    assert {k: got[k] for k in CONTRACT_KEYS} == expected


def test_case_list_is_complete() -> None:
    # five seeds, three real PDFs and their three text extractions
    assert len(CASES) == 11 and all(p.exists() for p, _ in CASES)


def test_the_samples_are_the_reports_with_goldens() -> None:
    """The bundled samples (the default inbox, and the tests' copy) are the seed reports and
    the real reports as text, each with its golden record, and nothing else."""
    expected = {p.name for p, _ in CASES if p.suffix == ".txt"}
    assert len(expected) == 8 and {f.name for f in SAMPLES.iterdir()} == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_detected(encoding: str) -> None:
    path = SAMPLES / "002_6379e42c8043a5dd.txt"
    expected = parse_file(path).to_json()
    data = path.read_text(encoding="utf-8").encode(encoding)
    assert parse_bytes(data, path.name).to_json() == expected


def test_metadata_from_the_page() -> None:
    rec = parse_file(SAMPLES / "002_6379e42c8043a5dd.txt")
    assert (rec.published, rec.index_number, rec.division_code) == ("2022-01-29", "330803-003/2022-47148", "330803")
    rec = parse_file(SAMPLES / "000_f1db75d64b6a785a.txt")
    assert (rec.published, rec.index_number, rec.division_code) == ("2022-01-25", "PX0239/2022-00186", None)


def test_provenance_points_at_the_raw_token() -> None:
    path = SAMPLES / "szfgs2024.txt"
    rec = parse_file(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    cell = rec.applications["other_no_correction"][0]
    assert (cell.value, cell.raw) == (67, "67")
    line_no = int(cell.position.split()[1])
    assert "67 3 0 0 1 0 71" in lines[line_no - 1]
    # an amount keeps its raw token and unit
    amount = parse_file(SAMPLES / "003_2e247731aada4717.txt").proactive["procurement"]["amount_10k_yuan"]
    assert (amount.value, amount.raw) == (1316.84, "1316.84万元")


def test_blank_cells_keep_their_raw_token() -> None:
    rec = parse_file(SAMPLES / "003_2e247731aada4717.txt")
    cell = rec.applications["carried_over"][0]
    assert cell.value is None and cell.raw == "\xa0"
