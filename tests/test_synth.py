"""ingestion/synthetic/synth.py and ``ogi synth``: a synthetic corpus whose golden records are what ``ogi parse`` prints."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestion.parse import parse_file
from ingestion.synthetic import synth
from ingestion.synthetic.render import ENCODINGS, LAYOUTS
from ingestion.synthetic.synth import BREAKABLE, broken_identities, generate, read_corpus, write_corpus
from orchestration.cli import app

N = 40
BREAK_SHARE = 0.25


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(out, N, seed=7, break_share=BREAK_SHARE)
    return out


def test_corpus_covers_every_layout_encoding_and_template(corpus: Path) -> None:
    entries = [m for m, _ in read_corpus(corpus)]
    assert len(entries) == N
    assert {(m["layout"], m["encoding"]) for m in entries} == {(x, e) for x in LAYOUTS for e in ENCODINGS}
    assert {g["template"] for _, g in read_corpus(corpus)} == {"2019", "2021"}
    assert all((corpus / m["file"]).is_file() for m in entries)
    assert len({m["name"] for m in entries}) == N  # names are unique: a record's source is its file name


def test_golden_records_are_what_the_parser_returns(corpus: Path) -> None:
    for entry, golden in read_corpus(corpus):
        got = parse_file(corpus / entry["file"]).to_json()
        assert got == golden, f"{entry['file']} ({entry['layout']}, {entry['encoding']})"


def test_ogi_parse_prints_the_golden_file(corpus: Path) -> None:
    result = CliRunner().invoke(app, ["parse", str(corpus / "reports")])
    assert result.exit_code == 0, result.output
    golden = [json.loads(line) for line in (corpus / "golden.jsonl").read_text(encoding="utf-8").splitlines()]
    printed = [json.loads(line) for line in result.output.splitlines()]
    # `source` is the path as given (the golden holds the file name, as the contract's scorer compares it)
    assert all(Path(r["source"]).parent.is_relative_to(corpus / "reports") for r in printed)
    assert [dict(r, source=Path(r["source"]).name) for r in printed] == golden


def test_broken_share_is_respected_and_breaks_the_named_identity(corpus: Path) -> None:
    broken = Counter()
    for entry, golden in read_corpus(corpus):
        found = broken_identities(golden)
        if entry["broken"] is None:
            assert found == set(), entry["file"]
        else:
            assert entry["broken"] in BREAKABLE
            assert found == {entry["broken"]}, entry["file"]  # that identity, and no other
            broken[entry["broken"]] += 1
    assert sum(broken.values()) == N * BREAK_SHARE


def test_numbers_look_like_real_reports() -> None:
    reports = [s.report for s in generate(2000, seed=3)]
    new = [r.applications["new_received"][-1].value or 0 for r in reports]
    assert sum(v == 0 for v in new) / len(new) > 0.25  # many bodies receive no application at all
    assert sorted(new)[len(new) // 2] < 20 < max(new) / 10  # small median, long tail
    blanks = sum(c.value is None for r in reports for _, _, _, c in r.iter_cells())
    assert blanks / sum(1 for r in reports for _ in r.iter_cells()) > 0.05
    bodies = Counter(s.body for s in generate(2000, seed=3))
    assert len(bodies) > 600 and max(bodies.values()) <= 4  # bodies report over consecutive years
    years = {r.year for r in reports}
    assert years <= set(range(2019, 2025)) and len(years) >= 5


def test_a_corpus_grows_by_the_reports_a_larger_one_adds(tmp_path: Path) -> None:
    whole, grown = tmp_path / "whole", tmp_path / "grown"
    write_corpus(whole, 30, seed=2, break_share=0.1)
    write_corpus(grown, 24, seed=2, break_share=0.1)
    write_corpus(grown, 30, seed=2, break_share=0.1, start=24, workers=2)
    for name in ("manifest.jsonl", "golden.jsonl"):
        assert (grown / name).read_bytes() == (whole / name).read_bytes()
    for entry, _ in read_corpus(whole):
        assert (grown / entry["file"]).read_bytes() == (whole / entry["file"]).read_bytes()


def test_word_and_pdf_files(tmp_path: Path) -> None:
    write_corpus(tmp_path, 8, seed=4, docx_share=0.5, pdf_share=0.25)
    formats = Counter()
    for entry, golden in read_corpus(tmp_path):
        formats[entry["format"]] += 1
        assert parse_file(tmp_path / entry["file"]).to_json() == golden
    assert formats["docx"] and formats["pdf"]


def test_ogi_synth_command(tmp_path: Path) -> None:
    out = tmp_path / "c"
    result = CliRunner().invoke(app, ["synth", "--reports", "12", "--out", str(out), "--seed", "5",
                                      "--break-share", "0.5", "--layouts", "pipe,html", "--workers", "1"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 12 and {e["layout"] for e in entries} == {"pipe", "html"}
    assert sum(e["broken"] is not None for e in entries) == 6
    bad = CliRunner().invoke(app, ["synth", "--reports", "3", "--out", str(out), "--layouts", "nope"])
    assert bad.exit_code != 0


def test_ogi_synth_pdf_without_reportlab_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    """reportlab is optional (the ``synth`` extra): without it, a clear message and no traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "reportlab", None)  # `import reportlab` now fails as if not installed
    out = tmp_path / "c"
    result = CliRunner().invoke(app, ["synth", "--reports", "4", "--out", str(out), "--pdf-share", "0.5",
                                      "--workers", "1"])
    assert result.exit_code == 2
    assert not isinstance(result.exception, ImportError)
    assert "pip install 'ogi-warehouse[synth]'" in result.output
    assert not out.exists()  # refused before anything is written
    plain = CliRunner().invoke(app, ["synth", "--reports", "2", "--out", str(out), "--workers", "1"])
    assert plain.exit_code == 0, plain.output  # text and Word files need no reportlab


def test_bodies_print_their_names_as_real_ones_do() -> None:
    """A body's reports name it in several ways (with or without its city, short names, 政府), bodies
    share county names across places, and the manifest says which body wrote each report."""
    from ingestion.regions import Divisions

    items = list(generate(3000, seed=5))
    names: dict[int, set[str]] = {}
    for s in items:
        names.setdefault(s.body, set()).add(s.report.agency)
    assert sum(len(v) > 1 for v in names.values()) > 100
    printed = {n for v in names.values() for n in v}
    assert any(n.endswith("工信局") for n in printed) and any(n.endswith("区政府") for n in printed)
    divisions = Divisions.load([2024])
    assert all(divisions.by_code(s.division, 2024)[0] is not None for s in items)  # real places
    coded = [s for s in items if s.report.division_code]
    assert 0.3 < len(coded) / len(items) < 0.6 and all(s.report.division_code == s.division for s in coded)
    # the same county name in two places (朝阳区 in Beijing and in Changchun)
    shared = Counter(divisions.by_code(s.division, 2024)[0].name for s in items
                     if divisions.by_code(s.division, 2024)[0].level == 3)
    places_of = {}
    for s in items:
        d = divisions.by_code(s.division, 2024)[0]
        if d.level == 3:
            places_of.setdefault(d.name, set()).add(d.code)
    assert sum(len(codes) > 1 for codes in places_of.values()) >= 5 and shared


def test_the_manifest_names_each_reports_body(corpus: Path) -> None:
    for entry, golden in read_corpus(corpus):
        assert isinstance(entry["body"], int) and entry["body"] > 0
        assert len(entry["division"]) == 6
        if golden.get("division_code"):
            assert golden["division_code"] == entry["division"]


def test_township_names_stay_unique_and_free_of_digits_past_the_pool():
    """Past the pool's cube (a national year's corpus) a township gets a fourth character, not a
    digit: the parser rightly takes no agency from a title whose name holds one."""
    k = len(synth._TOWN_CHARS)
    numbers = [*range(0, 50), *range(k ** 3 - 50, k ** 3 + 50), *range(3 * k ** 3, 3 * k ** 3 + 50)]
    names = [synth._town(n) for n in numbers]
    assert len(set(names)) == len(names)
    assert not any(ch.isdigit() for name in names for ch in name)
    assert {len(synth._town(n)) for n in (0, k ** 3 - 1)} == {3} and len(synth._town(k ** 3)) == 4
