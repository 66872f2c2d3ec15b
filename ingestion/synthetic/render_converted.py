"""Layouts that PDF converters, crawlers and saved web pages produce (see :mod:`.render`).

================  ===========================================================
``crawler``       a crawler's text dump: a header block (标题, 发布时间, 发布机构,
                  原文链接) or a title, prose lines, and each table flattened to
                  its inner text with no separator between cells (one line per
                  table, or per table row): ``（二）部分公开1200000012``
``md_converter``  a PDF-to-markdown converter's output: anchors and bold in the
                  title (broken over lines), a mini-table per row group with a
                  generic header (``| 项目 | 数据1 | … |``), spurious header rows,
                  header words broken or filled with ``-``, labels stranded before
                  a table of values, long labels cut into one row per line,
                  footers and the heading again between groups, a value pulled
                  out of its row with the cell's note
``saved_page``    a whole page saved as text by a crawler: header block,
                  navigation, script text, the report (pipe, cell or tab
                  lines), related articles, footer
``saved_html``    a whole page saved as HTML: a CMS's ``<meta>`` fields, layout
                  and field tables, navigation, scripts, related articles
``word_html``     Word's "save as web page": labels in many ``<span>`` runs,
                  ``<o:p>&nbsp;</o:p>`` blanks, source lines wrapped in the text
================  ===========================================================

Where a layout loses what the parser needs to read a cell with certainty (a run of digits
that splits into a row's cells in several ways), the cell must come back unread, and a cell
read by a rule must come back inferred with its rule: :func:`expected <.render.expected>`
says which, for every rendering, by construction (it knows each row's printed run, each cell
it moved, and applies the rules of :mod:`ingestion.digits` to them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..digits import AMOUNT, COUNT, SIGNED, certain_cells, read_run, resolve_by_columns
from ..record import UNREAD, Cell, Report, Rule, Status, read_cell
from ..templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    NON_OUTCOME_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
)
from ..text import normalize_label

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
    if blank == "" and any(not _run(cells) for glued in tables.values() for cells in glued.rows):
        # a row of blank cells printed as nothing leaves its label with no run at all, which the
        # parser reads as a row printed without values or a row not found, as the rest of the
        # table goes; crawlers of such pages print &nbsp; (an NBSP) in practice
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
    _, printed, _ = _crawler(rep, sty, doc)
    from .render import _app_rows, _pro_rows

    def read(cells: list[str], kinds: list[str], groups: tuple[int, ...]):
        reading = read_run(_run(cells), kinds, groups)
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
            reviews[key] = _read_cells(part, rep.reviews[key], list(REVIEW_COLUMNS), split_cells[5 * b: 5 * b + 5],
                                       rule)
        elif (candidates and len({c.cells[5 * b: 5 * b + 5] for c in candidates}) == 1
              and certain_cells(candidates[0].cells[5 * b: 5 * b + 5])):
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


# --------------------------------------------------------------------------------------------
# md_converter: what PDF-to-markdown converters make of a report
# --------------------------------------------------------------------------------------------

_GENERIC = ("项目", "数据")  # a converter's header for a table it found no header for: 项目 | 数据1 | 数据2 …


def _md(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_table(rows: list[list[str]], header: list[str] | None = None) -> list[str]:
    """A markdown table: ``header`` (or the first row) then the separator and the rows."""
    if header is None:
        header, rows = rows[0], rows[1:]
    return [_md(header), "|" + "|".join(["---"] * len(header)) + "|"] + [_md(r) for r in rows]


def _generic_header(width: int, labels: int = 1) -> list[str]:
    return [_GENERIC[0]] * labels + [f"{_GENERIC[1]}{k + 1}" for k in range(width)]


def _broken(word: str, rng) -> list[str]:
    """A header word broken over lines the way a converter splits a narrow cell: 商 / 业 / 企业."""
    if len(word) <= 2:
        return [word]
    cut = rng.randint(1, len(word) - 1)
    return [word[:cut], word[cut:]]


def _cut_label(label: str, key: str, rng) -> list[str]:
    """A long label cut into the two or three lines of a narrow cell (a line never starts with
    the punctuation that ends the one before); one line keeps a whole alias of the row, none
    carries another row's (else the parser could not know the row, and must not guess it)."""
    from .render import _NORM_ALIASES, _foreign_alias

    own = next(aliases for k, aliases in _NORM_ALIASES if k == key)
    for _ in range(8):
        parts = 2 if len(label) < 24 or rng.random() < 0.5 else 3
        cuts = sorted(set(rng.sample(range(4, len(label) - 2), parts - 1)))
        cuts = [c + 1 if label[c] in "，。、；：）)" else c for c in cuts]
        bounds = [0, *cuts, len(label)]
        pieces = [label[a:b] for a, b in zip(bounds, bounds[1:]) if label[a:b]]
        if any(a in normalize_label(p) for p in pieces for a in own) and not any(
                _foreign_alias(p, key) for p in pieces):
            return pieces
    return [label]


class _MdState:
    """What the md_converter rendering of one report did that the parser must undo: the cells it moved."""

    def __init__(self) -> None:
        self.moved: set[tuple[str, str]] = set()  # (row key, field) of table 2 cells printed under their row
        self.page = 1


def _md_converter(rep: Report, sty: "_Style", doc: "_Doc") -> tuple[str, _MdState]:
    """The markdown a PDF converter makes of ``rep`` (see the module docstring)."""
    from ..templates import APPLICANT_LABELS, REVIEW_RESULT_LABELS
    from .render import (
        _APPLICANTS_HEAD,
        _ARTICLE_ITEM,
        _IDENTITY_NOTE,
        _INFO_HEAD,
        _ORGS_HEAD,
        _RESULTS_LABEL,
        _app_labels,
        _app_rows,
        _cn,
        _counts,
        _field_label,
        _group_label,
        _half,
        _heading,
        _is_sub,
        _pro_rows,
        _review_heads,
    )

    rng = sty.rng
    state = _MdState()
    blank = sty.blank if sty.blank is not None else ""
    out: list[str] = []

    def span() -> str:
        return f'<span id="page-{state.page - 1}-{rng.randint(0, 9)}"></span>' if rng.random() < 0.5 else ""

    def heading(text: str) -> str:
        return rng.choice(("## {s}{t}", "# {s}{t}", "**{t}**", "{t}")).format(s=span(), t=text)

    def footer() -> None:
        if rng.random() < 0.6:
            out.extend(["", rng.choice(("— {n} —", "- {n} -", "第 {n} 页")).format(n=state.page), ""])
        state.page += 1

    # the title: an image first, then the title as the converter saw it (bold, with anchors, broken)
    if rng.random() < 0.4:
        out += ["![](_page_0_Picture_0.jpeg)", ""]
    rest = doc.title[len(doc.agency):]
    year = str(doc.year)
    u = rng.random()
    if u < 0.35:
        out += [f"# {span()}**{doc.agency}**", "", f"# **{year}** {rest[len(year):]}", ""]
    elif u < 0.6:
        cut = rest.index("年") + 1
        out += [f"**{doc.agency}{rest[:cut]}**", "", f"**{rest[cut:]}**", ""]
    else:
        out += [f"# {span()}{doc.title}", ""]
    for p in doc.intro:
        out += [p, ""]
    out += [heading(_heading(1, sty)), ""]
    for p in doc.overview:
        out += [p, ""]
    footer()

    # table 2: a mini-table per article item; labels stranded before a table of values; a value
    # pulled out of its row with a note
    out += [heading(_heading(2, sty)), ""]
    rows2 = _pro_rows(rep, sty)
    blocks: list[list[tuple[str, str, list[tuple[str, str | None]]]]] = []
    for row in rows2:
        if blocks and _ARTICLE_ITEM.get(blocks[-1][0][0]) == _ARTICLE_ITEM.get(row[0]) and \
                [f for f, _ in blocks[-1][0][2]] == [f for f, _ in row[2]]:
            blocks[-1].append(row)
        else:
            blocks.append([row])
    last_item = None
    for block in blocks:
        key0, _, vals0 = block[0]
        fields = [f for f, _ in vals0]
        item = _ARTICLE_ITEM.get(key0)
        head = [_INFO_HEAD] + [_field_label(key0, f, sty).replace("\n", "") for f in fields]
        article = _half(sty.article.format(n=_cn(item)), sty.fw) if item is not None and item != last_item else None
        last_item = item
        u = rng.random()
        if u < 0.25 and article is None or u < 0.15:
            # the labels stranded as lines before a table of the values only
            if article:
                out += [article, ""]
            out += [label for _, label, _ in block for label in (label, "")]
            out += _md_table([[blank if t is None else t for _, t in vals] for _, _, vals in block], head[1:]) + [""]
            continue
        table: list[list[str]] = []
        if article:
            table.append([article] + [""] * len(fields))
        table.append(head)
        pending: list[str] = []
        for key, label, vals in block:
            texts = [blank if t is None else t for _, t in vals]
            movable = [j for j, (f, t) in enumerate(vals) if t is not None and f not in AMOUNT_FIELDS
                       and f not in SIGNED_FIELDS and t.isdigit()]
            if len(fields) > 1 and movable and all(texts) and not pending and rng.random() < 0.3:
                j = rng.choice(movable)
                note = f"{texts[j]}（含修订 {rng.randint(1, 9)} 件）"
                texts[j] = ""
                state.moved.add((key, vals[j][0]))
                table.append([label] + texts)
                out += _md_table(table) + ["", note, ""]
                table = []
                continue
            if any(t is not None for _, t in vals) and rng.random() < 0.15:
                table.append([label] + [""] * len(fields))  # a tall row split in two: label, then values
                table.append([""] + texts)
            else:
                table.append([label] + texts)
        if table:
            out += _md_table(table) + [""]
    footer()

    # table 3: the header as broken words or filled with "-"; the rows in mini-tables with a
    # generic header; a spurious header row inside a group; footers and the heading again between
    h3 = _heading(3, sty)
    out += [heading(h3), ""]
    fill = rng.choice(("", "-"))
    orgs = list(APPLICANT_COLUMNS[1:-1])
    if rng.random() < 0.5:
        words = [_broken(APPLICANT_LABELS[c][0], rng) for c in orgs]
        depth = max(len(w) for w in words)
        header = [[_half(_IDENTITY_NOTE, sty.fw), fill, fill, _APPLICANTS_HEAD] + [fill] * 6,
                  [fill] * 3 + [APPLICANT_LABELS["natural_person"][0], _ORGS_HEAD] + [fill] * 4 +
                  [APPLICANT_LABELS["total"][0]]]
        for d in range(depth):
            header.append([fill] * 4 + [w[d] if d < len(w) else fill for w in words] + [fill])
    else:
        header = [[_half(_IDENTITY_NOTE, sty.fw), fill, fill, _APPLICANTS_HEAD] + [fill] * 6,
                  [fill] * 3 + [APPLICANT_LABELS["natural_person"][0], _ORGS_HEAD] + [fill] * 4 +
                  [APPLICANT_LABELS["total"][0]],
                  [fill] * 4 + [APPLICANT_LABELS[c][0] for c in orgs] + [fill]]
    out += _md_table(header) + [""]
    labels = _app_labels(sty.fw, sty.num, sty.quote, sty.partial_short)
    rows3 = _app_rows(rep)
    first_outcome = next(r for r in rows3 if r.group not in ("received", "carried"))
    seen_groups: set[str] = set()
    chunks: list[list[tuple[str, str, list[str]]]] = [[]]
    for r in rows3:
        label = labels[r.key]
        if _is_sub(r) and r.group not in seen_groups:
            seen_groups.add(r.group)
            label = _group_label(r.group, sty.fw) + " " + label
            chunks.append([])
        elif r is first_outcome:
            label = _RESULTS_LABEL + " " + label
        elif r.group in ("other", "total") and not _is_sub(r) and chunks[-1] and rng.random() < 0.3:
            chunks.append([])
        values = [blank if t is None else t for t in _counts(rep.applications[r.key], sty)]
        chunks[-1].append((r.key, label, values))
    chunks = [c for c in chunks if c]
    repeat_at = rng.randrange(1, len(chunks)) if len(chunks) > 1 and rng.random() < 0.4 else None
    for n, chunk in enumerate(chunks):
        if n:
            footer()
            if n == repeat_at:
                out += [heading(h3), ""]
        u = rng.random()
        if u < 0.2 and n:
            # the labels stranded before a table of values (a converter that lost the label column)
            for _, label, _ in chunk:
                out += [label, ""]
            out += _md_table([v for _, _, v in chunk], _generic_header(7, 0)) + [""]
            continue
        units: list[list[list[str]]] = []  # the rows of one row of the form
        for key, label, values in chunk:
            if len(label) > 14 and rng.random() < 0.3:
                # a tall row a converter cut into one row per line of its label; the values on one of them
                pieces = _cut_label(label, key, rng)
                at = rng.randrange(len(pieces))
                units.append([[piece] + (values if k == at else [""] * 7) for k, piece in enumerate(pieces)])
            else:
                units.append([[label] + values])
        if len(units) > 2 and rng.random() < 0.3:  # a spurious header row inside the group
            units.insert(rng.randint(1, len(units) - 1), [_generic_header(7)])
        rows = [row for unit in units for row in unit]
        if n and rng.random() < 0.25:  # the applicant header again on a new page, its empty cells "-"
            fill = rng.choice(("-", "", "—"))
            words = [_broken(APPLICANT_LABELS[c][0], rng) for c in orgs]
            head = [[fill, APPLICANT_LABELS["natural_person"][0], _ORGS_HEAD] + [fill] * 4 +
                    [APPLICANT_LABELS["total"][0]]]
            head += [[fill, fill] + [w[d] if d < len(w) else fill for w in words] + [fill]
                     for d in range(max(len(w) for w in words))]
            out += _md_table(head + rows) + [""]
            continue
        out += _md_table(rows, _generic_header(7)) + [""]

    # table 4: the header filled, the values
    out += [heading(_heading(4, sty)), ""]
    litigation, kinds = _review_heads()
    results = [REVIEW_RESULT_LABELS[c][0] for c in REVIEW_COLUMNS]
    fill = rng.choice(("", "-"))
    values = [blank if t is None else t for k in REVIEW_ROWS for t in _counts(rep.reviews[k], sty)]
    out += _md_table([[kinds[0]] + [fill] * 4 + [litigation] + [fill] * 9,
                      results + [kinds[1]] + [fill] * 4 + [kinds[2]] + [fill] * 4,
                      [fill] * 5 + results + results, values]) + [""]
    out += [heading(_heading(5, sty, doc.problems_variant)), ""]
    for p in doc.problems:
        out += [p, ""]
    out += [heading(_heading(6, sty)), ""]
    for p in doc.other + doc.closing:
        out += [p, ""]
    return "\n".join(out), state


def _lay_md_converter(rep: Report, sty: "_Style", doc: "_Doc", encoding: str) -> str:
    return _md_converter(rep, sty, doc)[0]


def md_converter_expected(rep: Report, sty: "_Style", doc: "_Doc") -> Report:
    """The record itself, the cells printed under their row with a note inferred (moved_with_note),
    the title found whatever the converter did to it."""
    _, state = _md_converter(rep, sty, doc)
    out = Report.from_json(rep.to_json())
    for key, f in state.moved:
        cell = out.proactive[key][f]
        out.proactive[key][f] = cell._replace(status=Status.INFERRED, rule=Rule.MOVED_WITH_NOTE)
    out.year_source = out.agency_source = "title"
    return out


# --------------------------------------------------------------------------------------------
# saved_page, saved_html: a whole web page saved (as text by a crawler, or as HTML)
# --------------------------------------------------------------------------------------------

_NAV = ("首页", "政务公开", "政府信息公开", "政策文件", "互动交流", "办事服务", "走进本区", "专题专栏")
_SCRIPT_TEXT = ("var _hmt = _hmt || [];", "(function() {", "  var hm = document.createElement(\"script\");",
                "  hm.src = \"https://hm.baidu.com/hm.js?{h}\";",
                "  var s = document.getElementsByTagName(\"script\")[0];",
                "  s.parentNode.insertBefore(hm, s);", "})();")


def _related(doc: "_Doc", rng) -> list[tuple[str, str]]:
    """A page's list of related articles: the body's reports of other years, with their dates."""
    years = [doc.year - k for k in (1, 2, 3)] + [doc.year + 1]
    out = []
    for y in rng.sample(years, rng.randint(2, 4)):
        out.append((f"{doc.agency}{y}年政府信息公开工作年度报告", f"{y + 1}-01-{rng.randint(10, 31):02d}"))
    return out


def _lay_saved_page(rep: Report, sty: "_Style", doc: "_Doc", encoding: str) -> str:
    """A whole page saved as text by a crawler: a header block, the site's navigation and
    breadcrumbs, the text of its scripts, the report (as one of the text layouts of web pages
    lays it out), the related articles and the footer."""
    from .render import _lay_cell_lines, _lay_pipe, _lay_tab_cells

    rng = sty.rng
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    out: list[str] = []
    if rng.random() < 0.6:
        out += [f"标题：{doc.title}", f"发布时间：{doc.published} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}",
                f"发布机构：{doc.publisher}",
                f"原文链接：http://www.example.gov.cn/art/{doc.year + 1}/1/{rng.randint(1, 28)}"
                f"/art_{rng.randint(1000, 9999)}"
                f"_{rng.randint(100000, 999999)}.html", ""]
    nav = rng.sample(_NAV, rng.randint(4, len(_NAV)))
    out += nav if rng.random() < 0.5 else ["  ".join(nav)]
    if rng.random() < 0.5:
        out += [line.replace("{h}", h) for line in _SCRIPT_TEXT]
    out += ["当前位置：首页 > 政务公开 > 政府信息公开 > 政府信息公开年报", ""]
    body = rng.choice((_lay_pipe, _lay_cell_lines, _lay_tab_cells))
    out.append(body(rep, sty, doc, encoding))
    out += ["", "【打印本页】 【关闭窗口】", "相关文章："]
    out += [f"{title}  {date}" for title, date in _related(doc, rng)]
    out += ["", f"主办：{doc.agency}  |  网站标识码：{rng.randint(1000000000, 9999999999)}  |  "
                f"苏ICP备{rng.randint(10000000, 99999999)}号-1", f"版权所有 © {doc.year + 1} {doc.agency}"]
    if rng.random() < 0.5:
        out += [line.replace("{h}", h) for line in _SCRIPT_TEXT]
    return "\n".join(out)


def _lay_saved_html(rep: Report, sty: "_Style", doc: "_Doc", encoding: str) -> str:
    """A whole page saved as HTML: the CMS's <meta> fields, a layout table with the logo and the
    search box, the navigation, breadcrumbs, a table of the article's fields (索引号, 发布机构,
    发布日期 in cells of their own), the report, a table of related articles, scripts."""
    from .render import _SCRIPT, _heading, _html_table, _table2, _table3, _table4

    rng = sty.rng
    nl = "\n" if rng.random() < 0.7 else ""
    charset = {"utf-8": "utf-8", "utf-8-sig": "UTF-8", "gb18030": "gb2312"}[encoding]
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    site = f"{doc.agency}门户网站" if rng.random() < 0.5 else "政府信息公开"
    head = [f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
            f"<title>{doc.title}_{site}</title>"]
    if rng.random() < 0.7:
        head += [f'<meta name="ArticleTitle" content="{doc.title}">', f'<meta name="PubDate" content="{doc.published} '
                 f'{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}">',
                 f'<meta name="ContentSource" content="{doc.publisher}">',
                 f'<meta name="SiteName" content="{site}">', '<meta name="ColumnName" content="政府信息公开年报">']
    head += [_SCRIPT.format(h=h), "<style>.nav li{float:left} td{border:1px solid #ccc}</style>"]
    nav = "".join(f'<li><a href="/{k}/">{name}</a></li>' for k, name in enumerate(rng.sample(_NAV, 6)))
    body = [f'<table class="top" width="100%"><tr><td><img src="/images/logo.png" alt="{doc.agency}"></td>'
            '<td><input type="text" name="q"> 搜索</td></tr></table>',
            f'<div class="nav"><ul>{nav}</ul></div>',
            '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
            '政府信息公开年报</div>',
            '<table class="xxgk_info">'
            f'<tr><td>索引号：</td><td>{doc.index_no}</td><td>发布机构：</td><td>{doc.publisher}</td></tr>'
            f'<tr><td>发布日期：</td><td>{doc.published}</td><td>文号：</td><td></td></tr></table>',
            f'<div class="article"><h1>{doc.title}</h1>']
    body += [f"<p>{p}</p>" for p in doc.intro]
    body.append(f"<p><strong>{_heading(1, sty)}</strong></p>")
    body += [f"<p>{p}</p>" for p in doc.overview]
    body.append(f"<p><strong>{_heading(2, sty)}</strong></p>")
    t2 = _table2(rep, sty)
    if t2 is not None:
        body.append(_html_table(t2, sty, nl))
    body.append(f"<p><strong>{_heading(3, sty)}</strong></p>")
    body.append(_html_table(_table3(rep, sty), sty, nl))
    body.append(f"<p><strong>{_heading(4, sty)}</strong></p>")
    body.append(_html_table(_table4(rep, sty), sty, nl))
    body.append(f"<p><strong>{_heading(5, sty, doc.problems_variant)}</strong></p>")
    body += [f"<p>{p}</p>" for p in doc.problems]
    body.append(f"<p><strong>{_heading(6, sty)}</strong></p>")
    body += [f"<p>{p}</p>" for p in doc.other]
    body += [f'<p style="text-align:right">{p}</p>' for p in doc.closing]
    body.append("</div>")
    related = "".join(f'<tr><td><a href="#">{t}</a></td><td>{d}</td></tr>' for t, d in _related(doc, rng))
    body.append(f'<div class="related"><h3>相关文章</h3><table>{related}</table></div>')
    body.append(f'<div class="footer">版权所有：{doc.agency} 网站标识码：{rng.randint(1000000000, 9999999999)}'
                f"<script>document.write('访问量：' + {rng.randint(1000, 99999)});</script></div>")
    return "\n".join(["<!DOCTYPE html>", '<html lang="zh-CN">', "<head>", *head, "</head>", "<body>", *body,
                      "</body>", "</html>"])


# --------------------------------------------------------------------------------------------
# word_html: a report Word saved as a web page
# --------------------------------------------------------------------------------------------


def _word_wrap(text: str, rng, width: int = 76) -> str:
    """Word's HTML source wrapped at about ``width`` characters: after a space, a tag or CJK punctuation."""
    out, line = [], ""
    for ch in text:
        line += ch
        if len(line) >= width and ch in " >，。、；" and rng.random() < 0.7:
            out.append(line)
            line = ""
    out.append(line)
    return "\n".join(out)


def _word_runs(text: str, rng, font: str, size: str) -> str:
    """Text in the runs Word cuts it into wherever the formatting history changed (mid-word)."""
    parts, i = [], 0
    while i < len(text):
        k = rng.randint(2, 9)
        parts.append(text[i:i + k])
        i += k
    return "".join(f"<span style='font-size:{size};font-family:{font};mso-hansi-font-family:\"Times New Roman\"'>"
                   f"{p}</span>" if not p.isascii() else f"<span lang=EN-US style='font-size:{size}'>{p}</span>"
                   for p in parts)


def _word_cell(cell, rng) -> str:
    text, _, rs, cs = cell
    attrs = "".join((f" rowspan={rs}" if rs > 1 else "", f" colspan={cs}" if cs > 1 else ""))
    attrs += (" valign=top style='border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;"
              "padding:0cm 5.4pt 0cm 5.4pt'")
    if text is None or not text.strip():
        inner = ("<p class=MsoNormal align=center style='text-align:center'><span lang=EN-US "
                 "style='font-size:10.5pt'><o:p>&nbsp;</o:p></span></p>")
    else:
        runs = "<br>".join(_word_runs(part, rng, "宋体", "10.5pt") for part in text.split("\n"))
        inner = (f"<p class=MsoNormal align=center style='text-align:center'>{runs}<span lang=EN-US "
                 "style='font-size:10.5pt'><o:p></o:p></span></p>")
    return _word_wrap(f"<td{attrs}>{inner}</td>", rng)


def _word_table(table: "_Table", rng) -> str:
    out = ["<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;"
           "border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184'>"]
    for i, row in enumerate(table.grid):
        out.append(f" <tr style='mso-yfti-irow:{i};height:20.0pt'>")
        out += ["  " + _word_cell(c, rng) for c in row]
        out.append(" </tr>")
    out.append("</table>")
    return "\n".join(out)


def _lay_word_html(rep: Report, sty: "_Style", doc: "_Doc", encoding: str) -> str:
    """A report Word saved as a web page: Office namespaces and XML, labels cut into many <span>
    runs, blank cells as <o:p>&nbsp;</o:p>, source lines wrapped inside the text."""
    from .render import _heading, _table2, _table3, _table4

    rng = sty.rng
    sty.blank = None  # Word prints an empty cell, never a marker the style may pick
    charset = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gb18030": "gb2312"}[encoding]

    def para(text: str, head: bool = False, align: str = "") -> str:
        runs = _word_runs(text, rng, "黑体" if head else "仿宋_GB2312", "16.0pt")
        style = f" align={align} style='text-align:{align}'" if align else \
            " style='text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt'"
        return _word_wrap(f"<p class=MsoNormal{style}>{runs}<span lang=EN-US style='font-size:16.0pt'>"
                          "<o:p></o:p></span></p>", rng)

    empty = "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>"
    body = [_word_wrap(f"<p class=MsoNormal align=center style='text-align:center'><b>"
                       f"{_word_runs(doc.title, rng, '方正小标宋简体', '22.0pt')}</b></p>", rng), empty]
    body += [para(p) for p in doc.intro]
    body.append(para(_heading(1, sty), head=True))
    body += [para(p) for p in doc.overview]
    body.append(para(_heading(2, sty), head=True))
    t2 = _table2(rep, sty)
    if t2 is not None:
        body += [_word_table(t2, rng), empty]
    body.append(para(_heading(3, sty), head=True))
    body.append(_word_table(_table3(rep, sty), rng))
    body.append(para(_heading(4, sty), head=True))
    body.append(_word_table(_table4(rep, sty), rng))
    body.append(para(_heading(5, sty, doc.problems_variant), head=True))
    body += [para(p) for p in doc.problems]
    body.append(para(_heading(6, sty), head=True))
    body += [para(p) for p in doc.other]
    body += [para(p, align="right") for p in doc.closing]
    head = ('<html xmlns:v="urn:schemas-microsoft-com:vml"\nxmlns:o="urn:schemas-microsoft-com:office:office"\n'
            'xmlns:w="urn:schemas-microsoft-com:office:word"\nxmlns="http://www.w3.org/TR/REC-html40">\n\n<head>\n'
            f'<meta http-equiv=Content-Type content="text/html; charset={charset}">\n'
            '<meta name=ProgId content=Word.Document>\n<meta name=Generator content="Microsoft Word 15">\n'
            f"<title>{doc.title}</title>\n"
            "<!--[if gte mso 9]><xml>\n <o:DocumentProperties>\n  <o:Author>Administrator</o:Author>\n"
            f"  <o:Pages>{rng.randint(3, 9)}</o:Pages>\n  <o:Words>{rng.randint(500, 3000)}</o:Words>\n"
            " </o:DocumentProperties>\n</xml><![endif]-->\n"
            "<style>\n<!--\np.MsoNormal\n\t{margin:0cm;font-size:10.5pt;}\n"
            "-->\n</style>\n</head>\n\n<body lang=ZH-CN style='tab-interval:21.0pt'>\n\n"
            "<div class=WordSection1 style='layout-grid:15.6pt'>\n\n")
    return head + "\n\n".join(body) + "\n\n</div>\n\n</body>\n\n</html>\n"


def _titled(rep: Report, sty: "_Style", doc: "_Doc") -> Report:
    """The record itself, its agency and year from its title (printed in pieces the parser joins)."""
    out = Report.from_json(rep.to_json())
    out.year_source = out.agency_source = "title"
    return out


#: Layout -> (renderer, expected record) of the layouts of this module.
LAYOUT_FUNCS = {"crawler": _lay_crawler, "md_converter": _lay_md_converter, "saved_page": _lay_saved_page,
                "saved_html": _lay_saved_html, "word_html": _lay_word_html}
EXPECTED_FUNCS = {"crawler": crawler_expected, "md_converter": md_converter_expected, "saved_html": _titled,
                  "word_html": _titled}
