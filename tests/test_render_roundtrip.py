"""Rendered reports parse back to the record they were rendered from, in every layout and encoding.

The renderer (ingestion/synthetic/render.py) writes a canonical record as a report file
the way real sources lay it out; the parser must read every one of them back
to the identical record: same cells, blanks and zeros kept apart, same agency,
year and template.  Where a layout loses what a cell needs to be read with certainty
(crawler text: a run of digits that splits into a row's cells in several ways), the
renderer knows it (``render.expected``): those cells must come back unread, never guessed,
and the cells read by a rule inferred; every other cell neither.  Together the property
tests parse over 1,500 rendered reports.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ingestion.parse import parse_bytes
from ingestion.record import Report
from ingestion.synthetic.render import ENCODINGS, EXTENSIONS, LAYOUTS, expected, file_name, render, render_text
from ingestion.synthetic.render_converted import EXPECTED_FUNCS

from fixture_paths import FIXTURES
from strategies import records, with_row_totals

GOLDENS = sorted((FIXTURES / "golden").glob("*.json")) + sorted((FIXTURES / "realworld" / "golden").glob("*.txt.json"))
KEYS = ("agency", "year", "template", "applications", "reviews", "proactive", "unread", "inferred")
EXAMPLES_PER_LAYOUT = 130  # x every layout: over 1,500 rendered and parsed reports
#: Layouts whose rows must add up to be read (a run of digits is split by the row's total).
NEEDS_ROW_TOTALS = {"crawler"}
# No shrinking: a failure already names the layout, seed, encoding and every differing cell, and
# shrinking a 220-cell record through the parser takes minutes.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)


def _diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """The differing keys and cells, one line each."""
    out = []
    for key in KEYS:
        want, have = expected[key], got.get(key)
        if want == have:
            continue
        if isinstance(want, list) and isinstance(have, list):  # unread, inferred
            out.append(f"{key}: missing {sorted(set(want) - set(have))}, extra {sorted(set(have) - set(want))}")
        elif isinstance(want, dict) and isinstance(have, dict):
            for row in sorted(set(want) | set(have)):
                if want.get(row) != have.get(row):
                    out.append(f"{key}.{row}: expected {want.get(row)!r}, got {have.get(row)!r}")
        else:
            out.append(f"{key}: expected {want!r}, got {have!r}")
    return out


def _expected(rec: Report, layout: str, seed: int) -> dict[str, Any]:
    obj = expected(rec, layout, seed=seed).to_json()
    if layout not in EXPECTED_FUNCS:  # the layouts of real sources the parser reads in full
        assert obj == {**rec.to_json(), "unread": [], "inferred": []}
    return {k: obj[k] for k in KEYS}


def assert_roundtrip(rec: Report, layout: str, seed: int, encoding: str) -> None:
    """Render ``rec``, parse it back and compare the contract keys, unread and inferred cells
    included; the message shows what differs."""
    data = render(rec, layout, seed=seed, encoding=encoding)
    got = parse_bytes(data, file_name("synth", layout)).to_json()
    want = _expected(rec, layout, seed)
    for table in ("applications", "reviews", "proactive"):  # never a value the record does not hold
        printed = {(t, r, c): cell.value for t, r, c, cell in rec.iter_cells() if t == table}
        for row, cells in got[table].items():
            values = cells.items() if isinstance(cells, dict) else zip(range(len(cells)), cells)
            for c, value in values:
                key = (table, row, c if isinstance(c, str) else _col(table, c))
                assert value is None or value == printed[key], (layout, seed, key, value, printed[key])
    diff = _diff(want, got)
    assert not diff, (
        f"layout={layout} seed={seed} encoding={encoding}\n  " + "\n  ".join(diff)
        + "\nparser warnings:\n  " + "\n  ".join(got.get("warnings", []))
    )


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=EXAMPLES_PER_LAYOUT, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rec=records(), seed=st.integers(0, 2**31 - 1), encoding=st.sampled_from(ENCODINGS))
def test_rendered_reports_parse_back(layout: str, rec: Report, seed: int, encoding: str) -> None:
    if layout in NEEDS_ROW_TOTALS:
        rec = with_row_totals(rec)
    assert_roundtrip(rec, layout, seed, encoding)


def _col(table: str, index: int) -> str:
    from ingestion.templates import APPLICANT_COLUMNS, REVIEW_COLUMNS

    return (APPLICANT_COLUMNS if table == "applications" else REVIEW_COLUMNS)[index]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
def test_golden_records_parse_back(golden: Path, layout: str, encoding: str) -> None:
    rec = Report.from_json(json.loads(golden.read_text(encoding="utf-8")))
    for seed in range(2):
        assert_roundtrip(rec, layout, seed + 2 * ENCODINGS.index(encoding), encoding)


def test_goldens_are_all_there() -> None:
    assert len(GOLDENS) == 8


@given(rec=records(), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_render_is_deterministic_and_varies_with_seed(rec: Report, seed: int) -> None:
    for layout in LAYOUTS:
        assert render(rec, layout, seed=seed) == render(rec, layout, seed=seed)
    texts = {render_text(rec, "pdf_text", seed=seed + k) for k in range(4)}
    assert len(texts) > 1


@given(rec=records())
@settings(max_examples=20, deadline=None)
def test_encodings(rec: Report) -> None:
    text = render_text(rec, "pipe", seed=1)
    assert render(rec, "pipe", seed=1, encoding="utf-8-sig").startswith(b"\xef\xbb\xbf")
    assert render(rec, "pipe", seed=1, encoding="gb18030").decode("gb18030") == text
    assert 'charset="gb18030"' in render_text(rec, "html", seed=2, encoding="gb18030") or \
        "charset=gb18030" in render_text(rec, "html", seed=2, encoding="gb18030")


def test_blank_and_zero_stay_distinct_in_the_text() -> None:
    """A row of zeros and a row of blanks never print the same way."""
    golden = json.loads((FIXTURES / "golden" / "003_2e247731aada4717.json").read_text(encoding="utf-8"))
    zeros = json.loads(json.dumps(golden))
    zeros["applications"]["granted"] = [0] * 7
    for layout in LAYOUTS:
        for seed in range(6):
            a = render_text(Report.from_json(golden), layout, seed=seed)
            b = render_text(Report.from_json(zeros), layout, seed=seed)
            assert a != b, (layout, seed)


def test_unknown_layout_or_encoding_is_refused() -> None:
    rec = Report.from_json(json.loads(GOLDENS[0].read_text(encoding="utf-8")))
    with pytest.raises(ValueError):
        render(rec, "docx")
    with pytest.raises(ValueError):
        render(rec, "pipe", encoding="latin-1")
    assert set(EXTENSIONS) == set(LAYOUTS)
