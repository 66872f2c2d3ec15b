"""The layouts that PDF converters, crawlers and saved web pages produce (parser 1.3).

Hand-made reports in ``tests/fixtures/layouts/`` modelled on real converter, crawler and
browser output parse to their golden records exactly: every cell, which cells are unread,
which are inferred and by what rule, and where the agency and year were found.  Then the
rules themselves, one at a time: a run of digits is split into a row's cells only where one
split fits (never a guess), a value pulled out with its note goes back where it came from,
header rows are no values, a garbage PDF text layer is refused as needing OCR.
"""
from __future__ import annotations

import itertools
import json
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.digits import (
    AMOUNT,
    BLANK_MARKS,
    COUNT,
    MAX_DIGITS,
    SIGNED,
    normalise_run,
    read_run,
    resolve_by_columns,
    splits,
)
from ingestion.metadata import read_metadata
from ingestion.parse import parse_bytes, parse_file
from ingestion.record import ErrorKind, ParseError, Rule, Status

from fixture_paths import FIXTURES, SAMPLES

LAYOUT_FIXTURES = FIXTURES / "layouts"
CASES = sorted(p for p in LAYOUT_FIXTURES.iterdir() if p.is_file())
KEYS = ("source", "agency", "year", "template", "applications", "reviews", "proactive", "unread", "inferred",
        "year_source", "agency_source", "published", "index_number", "division_code")


def _golden(path: Path) -> dict:
    return json.loads((LAYOUT_FIXTURES / "golden" / f"{path.name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_parses_to_golden(path: Path) -> None:
    expected = _golden(path)
    got = parse_file(path).to_json(provenance=True)
    assert {k: got.get(k) for k in KEYS} == {k: expected.get(k) for k in KEYS}
    rules = {f"{p['table']}.{p['row']}.{p['col']}": p["rule"] for p in got["provenance"] if p.get("rule")}
    assert rules == expected["rules"]
    assert set(rules) == set(got["inferred"])  # every inferred cell names its rule, no other cell does
    # agency and year found, and every cell not read is listed unread (null and not blank)
    assert got["agency"] and got["year"]
    statuses = {p["status"] for p in got["provenance"]}
    assert statuses <= {"value", "blank", "unread", "inferred"}


def test_the_fixtures_cover_every_layout() -> None:
    names = [p.name for p in CASES]
    for prefix in ("md_", "crawler_", "saved_page_", "word_"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert {p.suffix for p in CASES} >= {".md", ".txt", ".html", ".htm"}
    assert {_golden(p)["template"] for p in CASES} == {"2019", "2021"}


def test_a_value_moved_with_its_note_goes_back_to_its_row() -> None:
    # | 规章 | 5 |  | 130 | then "3（含修订 2 件）": 3 is the empty cell's, 2 belongs to no cell
    got = parse_file(LAYOUT_FIXTURES / "md_marker_qingxi2023.md")
    cell = got.proactive["regulations"]["abolished"]
    assert (cell.value, cell.status, cell.rule) == (3, Status.INFERRED, Rule.MOVED_WITH_NOTE)
    assert [c.value for c in got.proactive["regulations"].values()] == [5, 3, 130]
    assert 2 not in [c.value for row in got.proactive.values() for c in row.values()]


def _md(rows: list[str], note: str) -> bytes:
    head = "# 某县人民政府2023年政府信息公开工作年度报告\n\n## 二、主动公开政府信息情况\n\n"
    table = "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n" + "\n".join(rows)
    t3 = (SAMPLES / "000_f1db75d64b6a785a.txt").read_text(encoding="utf-8")
    t3 = t3[t3.index("三、收到和处理"):]
    return (head + table + "\n\n" + note + "\n\n" + t3).encode()


def test_a_note_line_fills_nothing_but_a_row_with_exactly_one_empty_cell() -> None:
    one = parse_bytes(_md(["| 规章 | 5 |  | 130 |"], "3（含修订 2 件）"), "a.md")
    assert [c.value for c in one.proactive["regulations"].values()] == [5, 3, 130]
    # two empty cells: which one is the note's cannot be told: the note is text, the blanks stay blank
    two = parse_bytes(_md(["| 规章 | 5 |  |  |"], "3（含修订 2 件）"), "b.md")
    assert [c.value for c in two.proactive["regulations"].values()] == [5, None, None]
    assert 3 not in [c.value for row in two.proactive.values() for c in row.values()]
    # no empty cell: a footnote after a full row is text
    full = parse_bytes(_md(["| 规章 | 5 | 1 | 130 |"], "3（含修订 2 件）"), "c.md")
    assert [c.value for c in full.proactive["regulations"].values()] == [5, 1, 130]
    assert not full.cell_keys(Status.INFERRED)


def test_header_words_filled_with_dashes_are_no_row_of_blank_values() -> None:
    # a converter repeats the applicant header on a new page, its empty cells "-": between two
    # groups of rows; the rows stay where they are
    got = parse_file(LAYOUT_FIXTURES / "md_marker_qingxi2023.md")
    assert not got.cell_keys(Status.UNREAD)
    text = (LAYOUT_FIXTURES / "md_marker_qingxi2023.md").read_text(encoding="utf-8")
    header = ("| - | 自然人 | 法人或其他组织 | - | - | - | - | 总计 |\n"
              "| - | - | 商 | 科 | 社会公 | 法律服 | 其他 | - |\n")
    text = text.replace("| （四）无法提供 1.本机关", header + "| （四）无法提供 1.本机关")
    again = parse_bytes(text.encode(), "again.md").to_json()
    assert {k: again[k] for k in ("applications", "unread")} == {"applications": _golden(
        LAYOUT_FIXTURES / "md_marker_qingxi2023.md")["applications"], "unread": []}


def test_a_tall_row_cut_into_one_row_per_line_of_its_label() -> None:
    text = (LAYOUT_FIXTURES / "md_marker_qingxi2023.md").read_text(encoding="utf-8")
    golden = _golden(LAYOUT_FIXTURES / "md_marker_qingxi2023.md")
    row = ("| （六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
           " | 1 | 0 | 0 | 0 | 0 | 0 | 1 |")
    assert row in text
    empty = " |  |  |  |  |  |  |  |"
    for cut in (  # the values on the first, the middle or the last line of the label
            f"| （六）其他处理 1.申请人无正当理由逾期不补 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |\n"
            f"| 正、行政机关不再处理其政府信息公开申请{empty}",
            f"| （六）其他处理 1.申请人无正当理由逾期不补{empty}\n| 正、行政机关不再 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |\n"
            f"| 处理其政府信息公开申请{empty}",
            f"| （六）其他{empty}\n| 处理 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |\n"
            f"| 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请{empty}"):
        got = parse_bytes(text.replace(row, cut).encode(), "cut.md").to_json()
        assert got["applications"] == golden["applications"] and not got["unread"], cut


def test_a_row_of_empty_cells_next_to_values_that_found_no_row_is_unread_not_blank() -> None:
    text = (LAYOUT_FIXTURES / "md_marker_qingxi2023.md").read_text(encoding="utf-8")
    old = "| （五）不予处理 |  |  |  |  |  |  |  |\n| 1.信访举报投诉类申请 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |"
    assert old in text
    new = ("| 9.未列明事项 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |\n| （五）不予处理 |  |  |  |  |  |  |  |\n"
           "| 1.信访举报投诉类申请 |  |  |  |  |  |  |  |")
    got = parse_bytes(text.replace(old, new).encode(), "doubt.md")
    assert all(c.status == Status.UNREAD for c in got.applications["rejected_petition"])
    assert [c.value for c in got.applications["rejected_duplicate"]] == [1, 0, 0, 0, 1, 0, 2]


# --------------------------------------------------------------------------- crawler text


def _crawler(table3_rows: dict[str, str], t2: str = "规章000行政规范性文件000", t4: str = "0" * 15) -> bytes:
    """A crawler text whose table 3 rows print ``table3_rows`` (row label -> run), the rest zeros."""
    rows = []
    for label in ("一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量",
                  "三、本年度办理结果（一）予以公开", "（二）部分公开", "（三）不予公开1.属于国家秘密",
                  "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”",
                  "4.保护第三方合法权益", "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷",
                  "8.属于行政查询事项", "（四）无法提供1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作",
                  "3.补正后申请内容仍不明确", "（五）不予处理1.信访举报投诉类申请", "2.重复申请",
                  "3.要求提供公开出版物",
                  "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息", "（六）其他处理", "（七）总计",
                  "四、结转下年度继续办理"):
        rows.append(label + table3_rows.get(label, "0000000"))
    text = ("某镇人民政府2021年政府信息公开工作年度报告\n二、主动公开政府信息情况\n"
            f"第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数{t2}第二十条第（五）项信息内容本年处理决定数量"
            "行政许可0第二十条第（六）项信息内容本年处理决定数量行政处罚0行政强制0第二十条第（八）项信息内容"
            "本年收费金额（单位：万元）行政事业性收费0\n"
            "三、收到和处理政府信息公开申请情况\n" + "".join(rows) + "\n四、政府信息公开行政复议、行政诉讼情况\n"
            f"行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计{t4}\n五、存在的主要问题及改进情况\n无。\n")
    return text.encode()


def test_crawler_rows_split_only_where_one_split_fits() -> None:
    # "121000013" is 12, 1 … of 13, or 1, 2, 10 … of 13: new_received and total alone split both ways.
    # granted "120000012" fits its total one way (12 … 12), partially_granted "0100001" has one split
    # whatever the total: the column identities then decide total (= the outcomes) and new_received
    # (new + carried = total + forward)
    runs = {"一、本年新收政府信息公开申请数量": "121000013", "三、本年度办理结果（一）予以公开": "120000012",
            "（二）部分公开": "0100001", "（七）总计": "121000013"}
    got = parse_bytes(_crawler(runs), "c.txt")
    values = {k: [c.value for c in row] for k, row in got.applications.items()}
    assert values["new_received"] == values["total"] == [12, 1, 0, 0, 0, 0, 13]
    assert values["granted"] == [12, 0, 0, 0, 0, 0, 12] and values["partially_granted"] == [0, 1, 0, 0, 0, 0, 1]
    rules = {k: {c.rule for c in row} for k, row in got.applications.items()}
    assert rules["new_received"] == rules["total"] == {Rule.COLUMN_IDENTITIES}
    # ("0100001" alone also reads 0, 10, 0, 0, 0, 1 and a cell printed as nothing: its total decides)
    assert rules["granted"] == rules["partially_granted"] == {Rule.ROW_TOTAL}
    assert not got.cell_keys(Status.UNREAD)


def test_crawler_rows_that_still_split_several_ways_are_unread() -> None:
    # new_received, granted and total all "121000013": (a, a, a) and (b, b, b) keep every identity:
    # the three rows stay unread, never one of the readings
    runs = {"一、本年新收政府信息公开申请数量": "121000013", "三、本年度办理结果（一）予以公开": "121000013",
            "（七）总计": "121000013"}
    got = parse_bytes(_crawler(runs), "e.txt")
    for key in ("new_received", "granted", "total"):
        assert all(c.status == Status.UNREAD and c.value is None for c in got.applications[key]), key
    assert sum("splits in 2 ways" in w for w in got.warnings) == 3
    # a row whose run fits no split at all (a total that is not the sum of its cells) is unread
    got = parse_bytes(_crawler({"（二）部分公开": "1200000012"}), "f.txt")
    assert all(c.status == Status.UNREAD for c in got.applications["partially_granted"])
    assert any("1200000012" in w for w in got.warnings)
    # table 2 carries no total: a run that splits several ways is unread, one that splits one way is read
    got = parse_bytes(_crawler({}, t2="规章000行政规范性文件1012"), "g.txt")
    assert [c.status for c in got.proactive["normative_documents"].values()] == [Status.UNREAD] * 3
    assert [c.value for c in got.proactive["regulations"].values()] == [0, 0, 0]


def test_a_crawler_text_that_prints_blank_cells_as_nothing_has_no_run_split_that_may_hide_one() -> None:
    # granted [5, -, 12, …] printed "51200017" is a run too short for no cell at all: a cell is
    # missing somewhere, and nothing says where.  Rows whose every reading agrees are still read.
    got = parse_bytes(_crawler({"（二）部分公开": "", "三、本年度办理结果（一）予以公开": "51200017"}), "h.txt")
    assert all(c.status == Status.UNREAD for c in got.applications["granted"])
    assert any(w.startswith("applications.granted: its run of digits splits in") for w in got.warnings)
    assert [c.value for c in got.applications["carried_over"]] == [0] * 7  # "0000000": no cell can be missing


def test_table_4_blocks_each_sum_to_their_total() -> None:
    got = parse_bytes(_crawler({}, t4="1020012" + "0" * 10), "i.txt")
    assert [[c.value for c in row] for row in got.reviews.values()] == [[10, 2, 0, 0, 12], [0] * 5, [0] * 5]
    assert {c.rule for row in got.reviews.values() for c in row} == {Rule.ROW_TOTAL}
    # the real report hzq2023 prints totals 0 where their parts sum to 11 and 5: no split fits, unread
    got = parse_bytes(_crawler({}, t4="10100" + "00000" + "50000"), "j.txt")
    assert all(c.status == Status.UNREAD for row in got.reviews.values() for c in row)


def test_only_crawler_text_is_read_as_crawler_text() -> None:
    from ingestion.layouts import looks_glued

    from fixture_paths import SEEDS, real_report

    for path in [*SEEDS, real_report("hzq2023.txt"), real_report("hzq2024.txt"), real_report("szfgs2024.txt")]:
        assert not looks_glued(path.read_text(encoding="utf-8")), path.name  # prose numbers, spaced cells
    for path in CASES:
        assert looks_glued(path.read_text(encoding="utf-8", errors="replace")) == path.name.startswith("crawler_")


# --------------------------------------------------------------------------- the splitter itself


def _valid(cell: str, kind: str) -> bool:
    if cell in BLANK_MARKS:
        return True
    pattern = {COUNT: r"0|[1-9]\d*", SIGNED: r"0|[+-]?[1-9]\d*", AMOUNT: r"(?:0|[1-9]\d*)(?:\.\d+)?"}[kind]
    return re.fullmatch(pattern, cell) is not None and len(cell.lstrip("+-").split(".")[0]) <= MAX_DIGITS


def _totals_hold(values: list[Decimal], groups: tuple[int, ...]) -> bool:
    """Whether each block's last value is the sum of the block's others (no groups: always)."""
    k = 0
    for g in groups:
        if sum(values[k:k + g - 1]) != values[k + g - 1]:
            return False
        k += g
    return True


def _brute(run: str, kinds: list[str], groups: tuple[int, ...]) -> set[tuple[str, ...]]:
    """Every split, by trying every set of cut positions (a space is never inside a cell)."""
    s = normalise_run(run)
    out = set()
    for cuts in itertools.combinations(range(1, len(s)), len(kinds) - 1):
        bounds = (0, *cuts, len(s))
        cells = [s[a:b][1:] if s[a:b].startswith(" ") else s[a:b] for a, b in zip(bounds, bounds[1:])]
        if any(not c or " " in c for c in cells) or not all(_valid(c, k) for c, k in zip(cells, kinds)):
            continue
        if _totals_hold([Decimal(0) if c in BLANK_MARKS else Decimal(c) for c in cells], groups):
            out.add(tuple(cells))
    return out


_RUNS = st.text(alphabet="0000011223456789/-— +", min_size=1, max_size=14).map(str.strip).filter(bool)
_SHAPES = st.sampled_from([([COUNT] * 3, ()), ([COUNT] * 7, (7,)), ([COUNT] * 5, (5,)), ([COUNT] * 10, (5, 5)),
                           ([COUNT, SIGNED, COUNT], ()), ([COUNT, AMOUNT], ())])


@settings(max_examples=600, deadline=None)
@given(run=_RUNS, shape=_SHAPES)
def test_splits_are_every_split_and_only_those(run: str, shape: tuple[list[str], tuple[int, ...]]) -> None:
    kinds, groups = shape
    if AMOUNT in kinds:
        run = run.replace("+", ".")
    got = {sp.cells for sp in splits(run, kinds, groups, limit=10 ** 6)}
    assert got == _brute(run, kinds, groups)


def test_a_split_is_taken_only_when_it_is_the_only_one() -> None:
    assert read_run("0000000", [COUNT] * 7, (7,)).rule == Rule.ONLY_SPLIT
    assert read_run("0 0 0 0 0 0 0", [COUNT] * 7, (7,)).rule == ""  # every cell separated: a plain reading
    assert read_run("120000012", [COUNT] * 7, (7,)).rule == Rule.ROW_TOTAL  # also 1, 20 … of 12: no
    several = read_run("121000013", [COUNT] * 7, (7,))
    assert several.split is None and len(several.candidates) == 2
    assert read_run("1012", [COUNT] * 3).split is None  # table 2: 1,0,12 or 10,1,2
    assert read_run("1000", [COUNT] * 3).split is None  # 10, 0, 0 or (a blank printed as nothing) 100, -, 0
    assert read_run("10+25", [COUNT, SIGNED, COUNT]).split is None  # 10, +2, 5 or 10, +25, nothing
    assert read_run("000", [COUNT] * 3).split.cells == ("0", "0", "0")  # no cell can be missing: "00" is no number
    assert read_run("10/0", [COUNT] * 3).split.cells == ("10", "/", "0")  # two cells cannot hold "10/0"


def test_huge_runs_take_bounded_time() -> None:
    import time

    rng = random.Random(5)
    start = time.perf_counter()
    for _ in range(4):  # three blocks of 8-digit counts: the worst a real report could print
        parts = [rng.randint(0, 50_000_000) for _ in range(4)]
        run = "".join(str(v) for v in (parts + [sum(parts)]) * 3)
        assert read_run(run, [COUNT] * 15, (5, 5, 5)).split is not None
    assert time.perf_counter() - start < 10


def test_the_column_identities_decide_only_what_every_fitting_combination_agrees_on() -> None:
    from ingestion.digits import Split

    def sp(*cells: str) -> Split:
        return Split(tuple(cells), tuple(range(len(cells))), True)

    zero = [0] * 7
    rows = {"new_received": None, "carried_over": zero, "granted": [12, 1, 0, 0, 0, 0, 13], "total": None,
            "carried_forward": zero}
    a, b = sp("12", "1", "0", "0", "0", "0", "13"), sp("1", "2", "10", "0", "0", "0", "13")
    decided = resolve_by_columns(rows, ["granted"], {"new_received": (a, b), "total": (a, b)})
    assert decided == {"new_received": a, "total": a}
    # granted unread: identity 2 cannot be judged; identity 1 holds for (a, a) and (b, b): no decision
    rows["granted"] = None
    assert resolve_by_columns(rows, ["granted"], {"new_received": (a, b), "total": (a, b)}) == {}


# --------------------------------------------------------------------------- metadata


def test_the_title_through_converter_markup() -> None:
    meta = read_metadata('# <span id="page-0-0"></span>**清溪县人民政府办公室**\n\n'
                         '# **2023** 年政府信息公开工作年度报告\n')
    assert (meta.agency, meta.year, meta.year_source) == ("清溪县人民政府办公室", 2023, "title")
    meta = read_metadata("**山阳县自然资源局2020年**\n\n**政府信息公开工作年度报告**\n")
    assert (meta.agency, meta.year) == ("山阳县自然资源局", 2020)
    meta = read_metadata("| 红旗区二〇二〇年度政府信息公开工作年度报告 |\n")
    assert (meta.agency, meta.year) == ("红旗区", 2020)
    # a breadcrumb that ends like a title is no title, even after a date
    assert read_metadata("2024年1月20日\n当前位置：首页 > 政务公开 > 政府信息公开年度报告\n").year is None


def test_agency_and_year_from_the_signature_when_nothing_else_names_them() -> None:
    text = ("一、总体情况\n本年度我局主动公开信息12条。2024年我局将进一步加强公开。\n"
            "六、其他需要报告的事项\n无。\n枫桥镇农业农村办公室\n2024年1月20日\n")
    meta = read_metadata(text)
    assert (meta.agency, meta.agency_source, meta.year, meta.year_source) == ("枫桥镇农业农村办公室", "signature", 2023,
                                                                            "signature")


def test_next_years_plans_do_not_name_the_year() -> None:
    # "2020年我委将…" (next year's plans) came before "2019年，我委…" and once named the year
    text = "根据《条例》要求，所列数据截止日期为2019年12月31日。\n针对上述问题，2020年我委将重点做好以下工作。\n"
    assert (read_metadata(text).year, read_metadata(text).year_source) == (2019, "statistics_period")
    assert read_metadata("针对上述问题，2020年我委将重点做好以下工作。\n2019年我委认真贯彻落实。\n").year == 2019


def test_a_web_page_s_cms_fields_and_field_table() -> None:
    got = parse_file(LAYOUT_FIXTURES / "saved_page_chengnan2023.html")
    assert (got.published, got.index_number) == ("2024-01-29", "11320100MB1234567X/2024-00031")


# --------------------------------------------------------------------------- PDFs with garbage text layers


def _pdf(objects: list[bytes]) -> bytes:
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    return out + f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


def _page(content: bytes, font: bytes, *more: bytes) -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
                 b"/Contents 4 0 R >>",
                 f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream", font, *more])


_LINES = ["洪泽区人民政府2023年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况",
          "一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21", "（一）予以公开 0 0 0 0 0 0 0"] * 8


def _cid_pdf() -> bytes:
    """Glyphs of a CID font with an Identity encoding and no ToUnicode map: the text reads (cid:N)."""
    content = b"BT /F1 12 Tf 40 800 Td 14 TL\n" + b"".join(
        ("<" + "".join(f"{(ord(ch) * 7) % 9000 + 3:04X}" for ch in ln) + "> Tj T*\n").encode() for ln in _LINES) + b"ET"
    return _page(content,
                 b"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+SimSun /Encoding /Identity-H "
                 b"/DescendantFonts [6 0 R] >>",
                 b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+SimSun /CIDSystemInfo << /Registry (Adobe) "
                 b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor 7 0 R /DW 1000 >>",
                 b"<< /Type /FontDescriptor /FontName /ABCDEF+SimSun /Flags 4 /FontBBox [0 -141 1000 859] "
                 b"/ItalicAngle 0 "
                 b"/Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>")


def _mojibake_pdf() -> bytes:
    """GB18030 bytes shown with a Latin font: the text reads as Latin-1 mojibake."""
    def esc(raw: bytes) -> bytes:
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    content = b"BT /F1 12 Tf 40 800 Td 14 TL\n" + b"".join(
        b"(" + esc(ln.encode("gb18030")) + b") Tj T*\n" for ln in _LINES) + b"ET"
    return _page(content, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")


def _random_ideographs_pdf() -> bytes:
    """A font whose codes map to the wrong ideographs: CJK text in no reading order."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    rng = random.Random(3)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("STSong-Light", 10)
    for k in range(60):
        line = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(30))
        c.drawString(30, 800 - 12 * k, line + (" 21 0 0 0 0 0 21" if k % 5 == 0 else ""))
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("make", [_cid_pdf, _mojibake_pdf, _random_ideographs_pdf],
                         ids=["cid-codes", "mojibake", "random-ideographs"])
def test_a_pdf_whose_text_layer_is_garbage_needs_ocr(make) -> None:
    with pytest.raises(ParseError) as err:
        parse_bytes(make(), "garbage.pdf")
    assert err.value.kind == ErrorKind.UNREADABLE
    assert "text layer cannot be read" in err.value.reason and "needs OCR" in err.value.reason


def test_a_header_block_run_into_one_line_names_the_agency_up_to_the_next_field() -> None:
    """A crawler that dropped the line breaks: each field's value ends where the next field starts."""
    text = (LAYOUT_FIXTURES / "crawler_fengqiao2024.txt").read_text(encoding="utf-8")
    got = parse_bytes("".join(text.splitlines()).encode(), "one_line.txt")
    expected = parse_file(LAYOUT_FIXTURES / "crawler_fengqiao2024.txt")
    assert (got.agency, got.agency_source, got.year) == ("枫桥街道办事处", "field", 2024)
    assert got.to_json()["applications"] == expected.to_json()["applications"]
    meta = read_metadata("发布机构：城南区商务局原文链接：http://example.invalid/a.html\n")
    assert (meta.agency, meta.agency_source) == ("城南区商务局", "field")
    # a value too long to be a body's name is text run into the field: no agency, never a wrong one
    assert read_metadata("发布机构：" + "城南区商务局关于进一步做好政府信息公开工作的通知" * 3 + "\n").agency is None


def test_a_dash_glued_to_a_signed_cell_may_be_its_minus_sign_so_the_row_is_unread() -> None:
    """'行政事业性收费-13': a blank then 13, or (a source printing blanks as nothing) nothing and -13;
    the same with the en and em dashes some typists use for a minus sign."""
    for run in ("-13", "–13", "—13", "－13", "−13"):
        assert read_run(run, [COUNT, SIGNED]).split is None, run
    assert read_run("-+13", [COUNT, SIGNED]).split.cells == ("-", "+13")  # the sign is there: no doubt
    assert read_run("- 13", [COUNT, SIGNED]).split.cells == ("-", "13")  # separated in the source
    assert read_run("-0", [COUNT, SIGNED]).split.cells == ("-", "0")  # "-0" is no signed cell
    assert read_run("-13", [COUNT, COUNT]).split.cells == ("-", "13")  # a count has no sign
    assert read_run("5—13", [COUNT, SIGNED]).split is None  # 5 and -13 only if "—" is a minus sign: unread
    text = (LAYOUT_FIXTURES / "crawler_fengqiao2020.txt").read_text(encoding="utf-8")
    assert "\n行政事业性收费00\n" in text
    for run in ("-13", "–13", "—13", "－13", "−13"):
        got = parse_bytes(text.replace("\n行政事业性收费00\n", f"\n行政事业性收费{run}\n").encode(), "fees.txt")
        assert {f: (c.value, c.status) for f, c in got.proactive["fees"].items()} == {
            "prev_items": (None, Status.UNREAD), "change": (None, Status.UNREAD)}, run
        assert any("'-13'" in w or run in w for w in got.warnings)


def test_a_blank_cell_printed_as_nothing_that_nothing_else_reveals_leaves_the_row_unread() -> None:
    """规章 5, (empty), 12 printed "512": 5, 1, 2 was once read as the only split."""
    got = parse_bytes(_crawler({}, t2="规章512行政规范性文件000"), "empty.txt")
    assert [c.status for c in got.proactive["regulations"].values()] == [Status.UNREAD] * 3
    assert [c.value for c in got.proactive["normative_documents"].values()] == [0, 0, 0]  # 000: no cell missing
    assert any("'512'" in w and "printed as nothing" in w for w in got.warnings)
    assert read_run("0000000", [COUNT] * 7, (7,)).split.cells == ("0",) * 7
    # 7 cells of 8 characters: a cell is missing somewhere, and nothing says where
    assert read_run("51200017", [COUNT] * 7, (7,)).split is None


def _doubtful_brute(run: str, kinds: list[str], groups: tuple[int, ...]) -> set[tuple[str, ...]]:
    """Every reading that allows cells printed as nothing (and, in a signed cell, a dash for a minus)."""
    s = normalise_run(run)
    out = set()

    def valid(cell: str, kind: str) -> bool:
        if not cell or cell in BLANK_MARKS:
            return True
        if kind == SIGNED and cell[0] in "–—" and len(cell) > 1:
            cell = "-" + cell[1:]
        return _valid(cell, kind)

    n = len(s)
    for bounds in itertools.combinations_with_replacement(range(n + 1), len(kinds) - 1):
        bounds = (0, *bounds, n)
        cells = [s[a:b] for a, b in zip(bounds, bounds[1:])]
        cells = [c[1:] if c.startswith(" ") and c != " " else c for c in cells]
        if any(" " in c for c in cells) or not all(valid(c, k) for c, k in zip(cells, kinds)):
            continue
        values = [Decimal(0) if not c or c in BLANK_MARKS else Decimal(c.replace("–", "-").replace("—", "-"))
                  for c in cells]
        if _totals_hold(values, groups):
            out.add(tuple(cells))
    return out


_DOUBTFUL_RUNS = st.text(alphabet="000011223456789/-— +", min_size=0, max_size=9).map(str.strip)
_DOUBTFUL_SHAPES = st.sampled_from([([COUNT] * 3, ()), ([COUNT] * 5, (5,)), ([COUNT, SIGNED, COUNT], ()),
                                    ([COUNT, SIGNED], ()), ([COUNT] * 6, (3, 3))])


@settings(max_examples=400, deadline=None)
@given(run=_DOUBTFUL_RUNS, shape=_DOUBTFUL_SHAPES)
def test_doubtful_splits_are_every_reading_and_only_those(run: str, shape: tuple[list[str], tuple[int, ...]]) -> None:
    kinds, groups = shape
    got = {sp.cells for sp in splits(run, kinds, groups, limit=10 ** 6, doubtful=True)}
    assert got == _doubtful_brute(run, kinds, groups)


def _proactive(got) -> dict[str, tuple]:
    return {k: tuple((c.value, c.status) for c in row.values()) for k, row in got.proactive.items()}


def test_a_number_in_prose_above_the_table_is_no_cell_of_it() -> None:
    """'本年度共办理行政许可15件，行政处罚3件。' above table 2 once read 15 and 3 where the table says 0."""
    base = _crawler({}).decode()
    prose = base.replace("二、主动公开政府信息情况\n", "二、主动公开政府信息情况\n本年度共办理行政许可15件，行政处罚3件。\n")
    got = parse_bytes(prose.encode(), "prose.txt")
    assert _proactive(got) == _proactive(parse_bytes(base.encode(), "base.txt"))
    assert got.proactive["licensing"]["decisions"].value == 0
    assert not got.cell_keys(Status.UNREAD)  # tables 3 and 4 still split: nothing was dropped
    # a prose number that is not a clause of its own: both runs after the label are unread, never the first
    prose = base.replace("二、主动公开政府信息情况\n", "二、主动公开政府信息情况\n本年度共办理行政许可15件\n")
    got = parse_bytes(prose.encode(), "prose2.txt")
    assert got.proactive["licensing"]["decisions"].status == Status.UNREAD
    assert got.proactive["penalty"]["decisions"].value == 0
    assert got.applications["granted"][0].status != Status.UNREAD  # the other tables are still split


def test_a_run_after_text_that_names_no_row_inherits_no_label() -> None:
    """'（二）部份公开1/////1' (a typo): the run is not 予以公开's (printed with no cells before it)."""
    text = _crawler({"三、本年度办理结果（一）予以公开": "", "（二）部分公开": "1/////1"}).decode()
    got = parse_bytes(text.replace("（二）部分公开", "（二）部份公开").encode(), "typo.txt")
    for key in ("granted", "partially_granted"):
        assert [c.status for c in got.applications[key]] == [Status.UNREAD] * 7
