"""Targeted layout cases beyond the round-trip properties."""
from __future__ import annotations

import json

from ingestion.parse import parse_bytes
from ingestion.record import Report
from ingestion.synthetic.render import render

from fixture_paths import FIXTURES, SAMPLES

CONTRACT = ("agency", "year", "template", "applications", "reviews", "proactive")


def _golden(name: str) -> dict:
    return json.loads((FIXTURES / "golden" / f"{name}.json").read_text(encoding="utf-8"))


def test_html_page_laid_out_in_an_outer_table() -> None:
    golden = _golden("003_2e247731aada4717")
    html = render(Report.from_json(golden), "html", seed=1).decode()
    i, j = html.index("<body>") + len("<body>"), html.index("</body>")
    wrapped = f'{html[:i]}<table><tr><td>首页 > 信息公开</td></tr><tr><td>{html[i:j]}</td></tr></table>{html[j:]}'
    got = parse_bytes(wrapped.encode(), "page.html").to_json()
    assert {k: got[k] for k in CONTRACT} == {k: golden[k] for k in CONTRACT}


def test_values_on_the_line_before_or_after_their_label() -> None:
    # the shape of text extracted from PDFs (hzq2023): values float above or below their labels
    text = (SAMPLES / "hzq2023.txt").read_text(encoding="utf-8")
    rec = parse_bytes(text.encode(), "hzq2023.txt")
    assert [c.value for c in rec.applications["partially_granted"]] == [4, 0, 0, 0, 0, 0, 4]  # value after label
    assert [c.value for c in rec.applications["denied_state_secret"]] == [1, 0, 0, 0, 0, 0, 1]  # before label
    assert [c.value for c in rec.applications["unavailable_needs_creation"]] == [3, 0, 0, 0, 0, 0, 3]
    assert not rec.warnings


def test_ambiguous_rows_are_left_blank_with_a_warning_never_guessed() -> None:
    # two value rows between two anchored rows where one row is expected: no certain placement
    text = (SAMPLES / "hzq2023.txt").read_text(encoding="utf-8")
    row = "（二）部分公开（区分处理的，只计这一情 形，不\n4 0 0 0 0 0 4\n"
    text = text.replace(row, row + "9 9 9 9 9 9 9\n")
    rec = parse_bytes(text.encode(), "odd.txt")
    assert rec.applications["partially_granted"][0].value is None
    assert rec.applications["denied_state_secret"][0].value is None
    assert any("cannot be placed with certainty" in w for w in rec.warnings)
    assert 9 not in [c.value for row in rec.applications.values() for c in row]


def test_unit_amounts_are_normalised_to_10k_yuan() -> None:
    text = (SAMPLES / "000_f1db75d64b6a785a.txt").read_text(encoding="utf-8")
    text = text.replace("行政事业性收费 | 0 |", "行政事业性收费 | 251000元 |")
    rec = parse_bytes(text.encode(), "fees.txt")
    cell = rec.proactive["fees"]["amount_10k_yuan"]
    assert (cell.value, cell.raw) == (25.1, "251000元")


def test_a_decimal_count_is_not_rounded() -> None:
    text = (SAMPLES / "000_f1db75d64b6a785a.txt").read_text(encoding="utf-8")
    text = text.replace("行政许可 | 0 |", "行政许可 | 2.5 |")
    rec = parse_bytes(text.encode(), "odd.txt")
    assert rec.proactive["licensing"]["decisions"].value is None
    assert any("not a whole number" in w for w in rec.warnings)


def test_remembered_lines_give_the_same_record_and_their_own_positions() -> None:
    # the parser remembers what each distinct line reads as (from its second sighting on):
    # a report read for the first, second and third time is the same record, provenance included,
    # and a line read from memory still points at the line it stands on
    golden = Report.from_json(_golden("002_6379e42c8043a5dd"))
    for layout in ("pipe", "cell_lines", "nbsp_cells", "tab_cells", "pdf_spaces", "html"):
        data = render(golden, layout, seed=5)
        first, second, third = (parse_bytes(data, "r.txt").to_json(provenance=True) for _ in range(3))
        assert first == second == third, layout
        if layout == "html":
            continue
        shifted = parse_bytes(b"\n\n\n" + data, "r.txt").to_json(provenance=True)
        positions = [(a["position"], b["position"]) for a, b in zip(first["provenance"], shifted["provenance"])
                     if a["position"]]
        assert positions, layout
        for before, after in positions:  # "line 84" / "line 84 col 3" -> "line 87" / "line 87 col 3"
            word, number, *rest = before.split(" ")
            assert after.split(" ") == [word, str(int(number) + 3), *rest], layout
