"""A report's tables laid out as the national form prints them, with its cells marked.

The layout comes from the warehouse's reference tables (``reference.ref_*``, generated from
``ingestion/templates.py``): table 3's rows in printed order with the outcome groups
(（三）不予公开 …) as row headers and the applicant columns under 法人或其他组织, table 4 as one
wide row under 行政复议 / 行政诉讼, table 2 in blocks of rows that share their columns.

Every cell shows the token the source printed (its raw token; the value where no token was
kept), with its key, token and position as a tooltip, and classes the page's CSS draws:

``lhs`` / ``rhs``  on the left / right side of a broken rule (with the rule's number as a badge)
``unread``         a cell the form requires that the parser did not read: no cell at all, or a
                   cell with no value, no token and no position (the parser's "row not found;
                   left blank"); once the cells carry a ``status`` column, its ``unread``
``inferred``       status ``inferred`` (placed by the parser, not printed as such)
``blank``          printed blank (NULL, not 0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from .labels import NUMERALS, TABLES


@dataclass
class Cell:
    """One cell as the warehouse holds it (``staging.stg_cells``)."""

    value: float | None
    raw: str | None = None
    position: str | None = None
    status: str | None = None  # coming: value / blank / unread / inferred


@dataclass
class Slot:
    """One ``<th>`` or ``<td>`` of a printed table."""

    text: str = ""
    en: str = ""
    header: bool = False
    key: str | None = None
    classes: list[str] = field(default_factory=list)
    badges: list[tuple[int, str]] = field(default_factory=list)  # (rule's number on the page, side)
    title: str = ""
    colspan: int = 1
    rowspan: int = 1


@dataclass
class PrintedTable:
    key: str
    title_zh: str
    title_en: str
    head: list[list[Slot]]
    body: list[list[Slot]]
    #: cells the report holds outside the form's layout (another form's rows, stray keys)
    extra: list[Slot] = field(default_factory=list)


@dataclass
class Reference:
    """The form's labels and layout, read once per site build (queries.reference)."""

    application_rows: list[dict]  # row_key, label_zh, label_en, row_group, row_variant, sort_order
    outcome_groups: dict[str, dict]  # outcome_group -> label_zh, label_en, sort_order
    applicant_types: list[dict]  # applicant_type, label_zh, label_en, sort_order, is_total
    review_results: list[dict]  # review_result, label_zh, label_en, sort_order, is_total
    proceedings: list[dict]  # proceeding, label_zh, label_en, proceeding_kind, sort_order
    proactive_fields: list[dict]  # template, row_key, row_label_zh, field, field_label_zh, sort_order
    #: (template, table_name, row_variant, row_key, col_key) of every cell a form requires
    template_cells: set[tuple[str, str, str, str, str]]

    def split_rows(self) -> set[str]:
        return {r["row_key"] for r in self.application_rows if r["row_variant"] == "split"}

    def describe(self, key: str) -> str:
        """A cell's printed name: ``行政复议 · 总计``, ``（七）总计 · 自然人``, ``规章 · 本年制发件数``."""
        table, row, col = (key.split(".") + ["", ""])[:3]
        if table == "applications":
            rows = {r["row_key"]: r["label_zh"] for r in self.application_rows}
            cols = {c["applicant_type"]: c["label_zh"] for c in self.applicant_types}
        elif table == "reviews":
            rows = {r["proceeding"]: r["label_zh"] for r in self.proceedings}
            cols = {c["review_result"]: c["label_zh"] for c in self.review_results}
        else:
            rows = {r["row_key"]: r["row_label_zh"] for r in self.proactive_fields}
            cols = {r["field"]: r["field_label_zh"] for r in self.proactive_fields}
        return f"{_short(rows.get(row, row))} · {cols.get(col, col)}"


def _short(label: str) -> str:
    """A row label without its parenthetical note (（二）部分公开（区分处理的…） -> （二）部分公开)."""
    cut = label.find("（", 1)
    return label[:cut] if cut > 0 else label


def _number(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:g}"


class Marks:
    """Which rules (by number on the page) mark which cells, and on which side."""

    def __init__(self) -> None:
        self.sides: dict[str, set[str]] = {}
        self.numbers: dict[str, list[tuple[int, str]]] = {}

    def add(self, key: str, number: int, side: str) -> None:
        self.sides.setdefault(key, set()).add(side)
        if (number, side) not in self.numbers.setdefault(key, []):
            self.numbers[key].append((number, side))

    def __contains__(self, key: str) -> bool:
        return key in self.sides


def _data_slot(key: str, cells: dict[str, Cell], marks: Marks, required: bool) -> Slot:
    cell = cells.get(key)
    slot = Slot(key=key)
    if cell is None:
        if required:
            slot.text, slot.classes = "未读", ["unread"]
            slot.title = "未读 not read: the form has this cell, the report has none"
        else:
            slot.classes = ["absent"]
    else:
        raw = (cell.raw or "").strip()
        slot.text = raw or _number(cell.value)
        status = cell.status or _status(cell)
        if status == "unread":
            slot.classes.append("unread")
            slot.text = slot.text or "未读"
        elif status == "inferred":
            slot.classes.append("inferred")
        elif status == "blank":
            slot.classes.append("blank")
        if status == "unread" and not cell.status:
            said = "未读 not read: no token taken from the source (see the parser's warnings)"
        else:
            said = f"raw {raw!r}" if raw else ("blank" if cell.value is None else "")
        parts = [said, cell.position or "", f"status {cell.status}" if cell.status else ""]
        slot.title = " · ".join(p for p in parts if p)
    _mark(slot, marks)
    return slot


def _mark(slot: Slot, marks: Marks) -> None:
    if slot.key is None or slot.key not in marks:
        return
    for side in sorted(marks.sides[slot.key]):
        if side not in slot.classes:
            slot.classes.append(side)
    slot.badges = list(marks.numbers[slot.key])


def apply_marks(tables: list[PrintedTable], marks: Marks) -> list[PrintedTable]:
    """Mark the cells of tables already laid out (see :func:`printed_tables`)."""
    for table in tables:
        for line in table.body:
            for slot in line:
                _mark(slot, marks)
        for slot in table.extra:
            _mark(slot, marks)
    return tables


def _status(cell: Cell) -> str:
    """A cell's status from what the cells hold today (until their ``status`` column lands):
    no value, no token and no position = the parser took nothing from the source for it
    (a row it did not find, a row printed without values: it leaves the cell blank and says so
    in the report's warnings); no value but a place in the source = printed blank."""
    if cell.value is not None:
        return "value"
    if not (cell.raw or "").strip() and not (cell.position or "").strip():
        return "unread"
    return "blank"


def _th(text: str, en: str = "", colspan: int = 1, rowspan: int = 1, classes: Iterable[str] = ()) -> Slot:
    return Slot(text=text, en=en, header=True, colspan=colspan, rowspan=rowspan, classes=list(classes))


def _extra(table: str, cells: dict[str, Cell], placed: set[str], marks: Marks) -> list[Slot]:
    out = []
    for key in sorted(k for k in cells if k.startswith(table + ".") and k not in placed):
        slot = _data_slot(key, cells, marks, required=False)
        slot.en = key
        out.append(slot)
    return out


def applications_table(ref: Reference, template: str | None, cells: dict[str, Cell], marks: Marks) -> PrintedTable:
    """Table 3: 申请人情况 across, the form's rows down, with 三、本年度办理结果 and its groups as row headers."""
    split = ref.split_rows()
    variant = "split" if any(k.split(".")[1] in split for k in cells if k.startswith("applications.")) else "single"
    rows = sorted((r for r in ref.application_rows if r["row_variant"] in ("both", variant)),
                  key=lambda r: r["sort_order"])
    cols = sorted(ref.applicant_types, key=lambda c: c["sort_order"])
    required = {(t[3], t[4]) for t in ref.template_cells if t[0] == template and t[1] == "applications"}
    orgs = [c for c in cols if not c["is_total"] and c["applicant_type"] != "natural_person"]
    natural = [c for c in cols if c["applicant_type"] == "natural_person"]
    totals = [c for c in cols if c["is_total"]]
    head = [[_th("申请人情况", "Applicants", colspan=3, rowspan=2)]
            + [_th(c["label_zh"], c["label_en"], rowspan=2) for c in natural]
            + ([_th("法人或其他组织", "Legal persons and other organisations", colspan=len(orgs))] if orgs else [])
            + [_th(c["label_zh"], c["label_en"], rowspan=2) for c in totals],
            [_th(c["label_zh"], c["label_en"]) for c in orgs]]
    ordered_cols = natural + orgs + totals

    outcome_rows = [r for r in rows if r["row_group"] not in ("received", "carried")]
    group_sizes: dict[str, int] = {}
    for r in outcome_rows:
        group_sizes[r["row_group"]] = group_sizes.get(r["row_group"], 0) + 1
    body: list[list[Slot]] = []
    placed: set[str] = set()
    seen_groups: set[str] = set()
    first_outcome = True
    for r in rows:
        line: list[Slot] = []
        group = r["row_group"]
        if group in ("received", "carried"):
            line.append(_th(r["label_zh"], r["label_en"], colspan=3, classes=["rowlabel"]))
        else:
            if first_outcome:
                line.append(_th("三、本年度办理结果", "Outcomes this year", rowspan=len(outcome_rows),
                                classes=["vertical"]))
                first_outcome = False
            if group_sizes[group] == 1:
                line.append(_th(r["label_zh"], r["label_en"], colspan=2, classes=["rowlabel"]))
            else:
                if group not in seen_groups:
                    g = ref.outcome_groups.get(group, {"label_zh": group, "label_en": group, "sort_order": 0})
                    numeral = NUMERALS[int(g["sort_order"]) - 1] if 0 < int(g["sort_order"]) <= len(NUMERALS) else ""
                    line.append(_th(f"（{numeral}）{g['label_zh']}" if numeral else g["label_zh"], g["label_en"],
                                    rowspan=group_sizes[group], classes=["group"]))
                line.append(_th(r["label_zh"], r["label_en"], classes=["rowlabel"]))
            seen_groups.add(group)
        for c in ordered_cols:
            key = f"applications.{r['row_key']}.{c['applicant_type']}"
            placed.add(key)
            line.append(_data_slot(key, cells, marks, (r["row_key"], c["applicant_type"]) in required))
        body.append(line)
    zh, en = TABLES["applications"]
    return PrintedTable("applications", zh, en, head, body, _extra("applications", cells, placed, marks))


def reviews_table(ref: Reference, template: str | None, cells: dict[str, Cell], marks: Marks) -> PrintedTable:
    """Table 4 as printed: one row of numbers under 行政复议 and 行政诉讼 (未经复议直接起诉, 复议后起诉)."""
    proceedings = sorted(ref.proceedings, key=lambda p: p["sort_order"])
    results = sorted(ref.review_results, key=lambda r: r["sort_order"])
    required = {(t[3], t[4]) for t in ref.template_cells if t[0] == template and t[1] == "reviews"}
    kinds: list[tuple[str, list[dict]]] = []
    for p in proceedings:
        if kinds and kinds[-1][0] == p["proceeding_kind"]:
            kinds[-1][1].append(p)
        else:
            kinds.append((p["proceeding_kind"], [p]))
    row1, row2, row3 = [], [], []
    for _, group in kinds:
        top_zh, _, _ = group[0]["label_zh"].partition("·")
        top_en = group[0]["label_en"] if len(group) == 1 else "Administrative litigation"
        if len(group) == 1 and "·" not in group[0]["label_zh"]:
            row1.append(_th(top_zh, top_en, colspan=len(results), rowspan=2))
        else:
            row1.append(_th(top_zh, top_en, colspan=len(results) * len(group)))
            for p in group:
                row2.append(_th(p["label_zh"].partition("·")[2] or p["label_zh"], p["label_en"], colspan=len(results)))
        for _ in group:
            row3 += [_th(r["label_zh"], r["label_en"]) for r in results]
    line, placed = [], set()
    for p in proceedings:
        for r in results:
            key = f"reviews.{p['proceeding']}.{r['review_result']}"
            placed.add(key)
            line.append(_data_slot(key, cells, marks, (p["proceeding"], r["review_result"]) in required))
    zh, en = TABLES["reviews"]
    head = [row1] + ([row2] if row2 else []) + [row3]
    return PrintedTable("reviews", zh, en, head, [line], _extra("reviews", cells, placed, marks))


def proactive_table(ref: Reference, template: str | None, cells: dict[str, Cell], marks: Marks) -> PrintedTable:
    """Table 2 in blocks of rows sharing their columns (信息内容 | 本年制发件数 | …), as the form prints it."""
    fields = sorted((f for f in ref.proactive_fields if f["template"] == template), key=lambda f: f["sort_order"])
    rows: list[tuple[str, str, list[tuple[str, str]]]] = []
    for f in fields:
        if not rows or rows[-1][0] != f["row_key"]:
            rows.append((f["row_key"], f["row_label_zh"], []))
        rows[-1][2].append((f["field"], f["field_label_zh"]))
    width = max((len(r[2]) for r in rows), default=1)
    required = {(t[3], t[4]) for t in ref.template_cells if t[0] == template and t[1] == "proactive"}
    body: list[list[Slot]] = []
    placed: set[str] = set()
    previous: list[str] | None = None
    for row_key, label, row_fields in rows:
        names = [f for f, _ in row_fields]
        if names != previous:
            pad = [_th("", colspan=width - len(names), classes=["pad"])] if len(names) < width else []
            body.append([_th("信息内容", "Item", classes=["blockhead"])]
                        + [_th(flabel, fkey, classes=["blockhead"]) for fkey, flabel in row_fields] + pad)
            previous = names
        line = [_th(label, row_key, classes=["rowlabel"])]
        for fkey, _ in row_fields:
            key = f"proactive.{row_key}.{fkey}"
            placed.add(key)
            line.append(_data_slot(key, cells, marks, (row_key, fkey) in required))
        if len(row_fields) < width:
            line.append(Slot(colspan=width - len(row_fields), classes=["pad"]))
        body.append(line)
    zh, en = TABLES["proactive"]
    return PrintedTable("proactive", zh, en, [], body, _extra("proactive", cells, placed, marks))


def printed_tables(ref: Reference, template: str | None, cells: dict[str, Cell],
                   marks: Marks | None = None) -> list[PrintedTable]:
    """Tables 2, 3 and 4 of one report, in the order the form prints them."""
    marks = marks or Marks()
    return [proactive_table(ref, template, cells, marks), applications_table(ref, template, cells, marks),
            reviews_table(ref, template, cells, marks)]
