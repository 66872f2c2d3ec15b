"""Layouts that PDF converters, crawlers and saved web pages produce (see :mod:`.render`).

=============  ==============================================================
``crawler``    a crawler's text dump: a header block (标题, 发布时间, 发布机构,
               原文链接) or a title, prose lines, and each table flattened to
               its inner text with no separator between cells (one line per
               table, or per table row): ``（二）部分公开1200000012``
=============  ==============================================================

Where a layout loses what the parser needs to read a cell with certainty (a run of digits
that splits into a row's cells in several ways), the cell must come back unread, and a cell
read by a rule must come back inferred with its rule: :func:`expected` says which, for every
rendering, by construction (it knows each row's printed run and the rules of
:mod:`ingestion.digits`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..digits import AMOUNT, COUNT, SIGNED, read_run, resolve_by_columns, splits
from ..record import UNREAD, Cell, Report, Rule, Status, read_cell
from ..templates import AMOUNT_FIELDS, APPLICANT_COLUMNS, NON_OUTCOME_ROWS, PROACTIVE_ROWS, REVIEW_COLUMNS, \
    REVIEW_ROWS, SIGNED_FIELDS
from ..text import classify

if TYPE_CHECKING:
    from .render import _Doc, _Style, _Table

NBSP = "\xa0"


class Unrenderable(ValueError):
    """The record cannot be printed in the layout without the parser misreading a cell (a row whose
    printed total is not the sum of its cells, whose run of digits one other split fits)."""


# --------------------------------------------------------------------------------------------
# crawler: tables flattened to their inner text
# --------------------------------------------------------------------------------------------

#: What a crawler prints for an empty cell: nothing, a marker the page printed, or the NBSP of &nbsp;.
_CRAWLER_BLANKS = ("", "/", "—", "-", NBSP)


@dataclass
class _Glued:
    """A table flattened to text: its lines, and each data row's printed cells."""

    lines: list[str]
    rows: list[list[str]] = field(default_factory=list)


_UNITS = ("万元", "亿元", "元")


def _run(cells: list[str]) -> str:
    """A row's run as the parser cuts it out: its cells' text, without the unit after the last one."""
    text = "".join(cells)
    for unit in _UNITS:
        if text.endswith(unit):
            return text[: -len(unit)]
    return text


def _glue_table(table: "_Table", blank: str, per_row: bool) -> _Glued:
    """A table's inner text: every cell's text, no separator; each data row's printed cells kept."""
    rows: list[list[str]] = []
    texts: list[str] = []
    for cells, data in zip(table.grid, table.data):
        row_text = []
        values = []
        for text, kind, _, _ in cells:
            if kind == "v":
                token = blank if text is None else text
                values.append(token)
                row_text.append(token)
            else:
                row_text.append((text or "").replace("\n", ""))
        if data:
            rows.append(values)
        texts.append("".join(row_text))
    return _Glued(texts if per_row else ["".join(texts)], rows)


def _crawler(rep: Report, sty: "_Style", doc: "_Doc") -> tuple[str, dict[str, list[list[str]]], str]:
    """The crawler text of ``rep``, each table's data rows as printed (cells), and the blank token."""
    from .render import _heading, _table2, _table3, _table4

    rng = sty.rng
    sty.thousands = False  # a count prints as digits only: "12,345" would be three runs
    blank = rng.choice(_CRAWLER_BLANKS)
    per_row = rng.random() < 0.35
    glued_heading = rng.random() < 0.25  # the table glued to its heading: "三、收到…情况（本列数据…"
    t2, t3, t4 = _table2(rep, sty), _table3(rep, sty), _table4(rep, sty)
    tables = {"proactive": _glue_table(t2, blank, per_row) if t2 is not None else _Glued([]),
              "applications": _glue_table(t3, blank, per_row), "reviews": _glue_table(t4, blank, per_row)}
    if blank == "" and not _omission_shows(tables, _row_kinds(rep, sty)):
        # blanks printed as nothing where no row shows it: any split may be wrong, and the parser
        # could not know; crawlers of such pages print &nbsp; (an NBSP) in practice
        blank = NBSP
        tables = {"proactive": _glue_table(t2, blank, per_row) if t2 is not None else _Glued([]),
                  "applications": _glue_table(t3, blank, per_row), "reviews": _glue_table(t4, blank, per_row)}
    out: list[str] = []
    if rng.random() < 0.6:
        out += [f"标题：{doc.title}", f"发布时间：{doc.published} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:"
                f"{rng.randint(0, 59):02d}", f"发布机构：{doc.publisher}",
                f"原文链接：http://www.{rng.choice(('gov', 'zwgk', 'xxgk'))}.example.gov.cn/art/{doc.year + 1}/1/"
                f"{rng.randint(1, 28)}/art_{rng.randint(1000, 9999)}_{rng.randint(100000, 999999)}.html"]
        if rng.random() < 0.5:
            out.append("正文：")
    out.append(doc.title)
    out += doc.intro
    out.append(_heading(1, sty))
    out += doc.overview
    for n, key in ((2, "proactive"), (3, "applications"), (4, "reviews")):
        head = _heading(n, sty)
        lines = tables[key].lines
        if lines and glued_heading:
            out.append(head + lines[0])
            out += lines[1:]
        else:
            out.append(head)
            out += lines
    out.append(_heading(5, sty, doc.problems_variant))
    out += doc.problems
    out.append(_heading(6, sty))
    out += doc.other
    out += doc.closing
    printed = {key: g.rows for key, g in tables.items()}
    return "\n".join(out), printed, blank


def _row_kinds(rep: Report, sty: "_Style") -> dict[str, list[list[str]]]:
    """The field kinds of each data row of each table (ingestion.digits), as the parser splits them."""
    from .render import _app_rows, _pro_rows

    return {"applications": [[COUNT] * 7 for _ in _app_rows(rep)], "reviews": [[COUNT] * 15],
            "proactive": [_kinds([f for f, _ in vals]) for _, _, vals in _pro_rows(rep, sty)]}


def _omission_shows(tables: dict[str, _Glued], kinds: dict[str, list[list[str]]]) -> bool:
    """Whether a source printing blank cells as nothing shows it, as the parser looks for it: a run
    too short for its row's cells, and no row printed without any cell (whose label would have
    no run: the parser would then take the row as not found)."""
    short = False
    for key, glued in tables.items():
        for cells, row_kinds in zip(glued.rows, kinds[key]):
            run = _run(cells)
            if not run:
                return False
            if len(row_kinds) > 1 and not splits(run, row_kinds, (), limit=0):
                short = True
    return short


def _lay_crawler(rep: Report, sty: "_Style", doc: "_Doc", encoding: str) -> str:
    return _crawler(rep, sty, doc)[0]


def _kinds(fields: list[str]) -> list[str]:
    return [AMOUNT if f in AMOUNT_FIELDS else SIGNED if f in SIGNED_FIELDS else COUNT for f in fields]


def _read_cells(printed: list[str], record: list[Cell], fields: list[str], split_cells: tuple[str, ...] | None,
                rule: str) -> list[Cell]:
    """The cells the parser reads from a row: ``record``'s cells when the split is the printed one
    (inferred by ``rule`` when there is one); unread when no split was taken."""
    if split_cells is None:
        return [UNREAD] * len(record)
    printed = list(printed)
    printed[-1] = _run(printed[-1:])
    if list(split_cells) != printed:
        raise Unrenderable(f"the run {''.join(printed)!r} reads as {split_cells}, not as printed")
    if not rule:
        return [read_cell(c.value) for c in record]
    return [read_cell(c.value)._replace(status=Status.INFERRED, rule=rule) for c in record]


def crawler_expected(rep: Report, sty: "_Style", doc: "_Doc") -> Report:
    """The record the parser reads from the crawler text of ``rep`` (see :func:`ingestion.digits.read_run`)."""
    _, printed, blank = _crawler(rep, sty, doc)
    omitted = blank == ""
    from .render import _app_rows, _pro_rows

    def read(cells: list[str], kinds: list[str], groups: tuple[int, ...]):
        reading = read_run(_run(cells), kinds, groups)
        if omitted and len(kinds) > 1 and (reading.rule or reading.candidates):
            return None, "", ()
        return (reading.split.cells if reading.split else None), reading.rule, reading.candidates

    # table 3: each row by its run; the ambiguous ones by the column identities
    apps: dict[str, list[Cell]] = {}
    ambiguous = {}
    for row, cells in zip(_app_rows(rep), printed["applications"]):
        split_cells, rule, candidates = read(cells, [COUNT] * 7, (7,))
        if candidates:
            ambiguous[row.key] = (cells, candidates)
            apps[row.key] = [UNREAD] * 7
        else:
            apps[row.key] = _read_cells(cells, rep.applications[row.key], list(APPLICANT_COLUMNS), split_cells, rule)
    if ambiguous:
        values = {k: None if any(c.status == Status.UNREAD for c in row) else [c.value for c in row]
                  for k, row in apps.items()}
        outcomes = [k for k in apps if k not in NON_OUTCOME_ROWS]
        decided = resolve_by_columns(values, outcomes, {k: c for k, (_, c) in ambiguous.items()})
        for key, split in decided.items():
            apps[key] = _read_cells(ambiguous[key][0], rep.applications[key], list(APPLICANT_COLUMNS), split.cells,
                                    Rule.COLUMN_IDENTITIES)

    # table 4: one run over the three rows, each block summing to its total
    reviews: dict[str, list[Cell]] = {}
    cells4 = printed["reviews"][0]
    split_cells, rule, candidates = read(cells4, [COUNT] * 15, (5, 5, 5))
    for b, key in enumerate(REVIEW_ROWS):
        part = cells4[5 * b: 5 * b + 5]
        if split_cells is not None:
            reviews[key] = _read_cells(part, rep.reviews[key], list(REVIEW_COLUMNS), split_cells[5 * b: 5 * b + 5], rule)
        elif candidates and len({c.cells[5 * b: 5 * b + 5] for c in candidates}) == 1:
            reviews[key] = _read_cells(part, rep.reviews[key], list(REVIEW_COLUMNS),
                                       candidates[0].cells[5 * b: 5 * b + 5], Rule.ROW_TOTAL)
        else:
            reviews[key] = [UNREAD] * 5

    # table 2: a row's run read only where it splits one way
    proactive: dict[str, dict[str, Cell]] = {}
    for (key, _, vals), cells in zip(_pro_rows(rep, sty), printed["proactive"]):
        fields = [f for f, _ in vals]
        split_cells, rule, _ = read(cells, _kinds(fields), ())
        got = _read_cells(cells, [rep.proactive[key][f] for f in fields], fields, split_cells, rule)
        proactive[key] = dict(zip(fields, got))
    return Report(source=rep.source, agency=rep.agency, year=rep.year, template=rep.template, applications=apps,
                  reviews=reviews, proactive=proactive, published=rep.published, index_number=rep.index_number,
                  division_code=rep.division_code, year_source=rep.year_source, agency_source=rep.agency_source)


#: Layout -> (renderer, expected record) of the layouts of this module.
LAYOUT_FUNCS = {"crawler": _lay_crawler}
EXPECTED_FUNCS = {"crawler": crawler_expected}
