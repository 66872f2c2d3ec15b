"""Render canonical records back into report files, in every layout real reports come in.

The reverse of :mod:`ingestion.parse`: a :class:`~ingestion.record.Report` becomes
the bytes of a report file -- title, metadata block, prose sections and the three
statistical tables -- laid out the way one family of real sources lays them out:

=============  ==============================================================
``pipe``       web page flattened to ``|``-separated rows (seeds 000, 004)
``tab_cells``  HTML flattened with one cell per line, each line starting with a
               TAB, rows separated by empty lines (seed 001)
``cell_lines`` one cell per line separated by empty lines, no row markers (002)
``nbsp_cells`` one cell per line separated by lines of two spaces, a run of
               blank cells collapsed into one line of NBSPs (seed 003)
``pdf_spaces`` PDF text extracted with ``layout=True``: cells separated by runs
               of spaces, headers over several lines (realworld hzq2024)
``pdf_text``   PDF text extracted plainly: single spaces, broken labels, values
               on the line before or after their label, the vertical label
               三、本年度办理结果 one character per line, page footers inside
               the tables (realworld hzq2023, szfgs2024)
``markdown``   a PDF-to-markdown conversion: ``| a | b |`` tables with ``|---|``
               separators, split into mini-tables at page breaks
``html``       a full HTML page with ``rowspan``/``colspan`` tables
=============  ==============================================================

and the layouts of :mod:`.render_converted`: ``crawler`` (tables flattened to their inner
text, cells glued together), ``md_converter`` (a PDF-to-markdown converter's output),
``saved_page`` (a whole page saved as text by a crawler), ``saved_html`` (a whole page
saved as HTML) and ``word_html`` (Word's "save as web page"). Where a layout loses what a
cell needs to be read with certainty, :func:`expected` says which cells come back unread
and which inferred.

Every layout can be written in every encoding of :data:`ENCODINGS`.  ``seed``
varies everything the form does not fix -- label punctuation and numbering,
blank-cell tokens, units of amounts, where PDF extraction breaks a label or
moves its values -- deterministically, so one record renders many ways.

All row keys, labels and fields come from :mod:`ingestion.templates`; nothing
here names a template's rows.  Blank cells (``None``) and zeros stay distinct in
every layout.  Rendering is plain string building (no regex compiled per call),
fast enough for corpus generation.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Sequence

from ..record import Cell, Report
from ..templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    APPLICANT_LABELS,
    APPLICATION_ROWS,
    OUTCOME_GROUPS,
    PROACTIVE_FIELD_LABELS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_RESULT_LABELS,
    REVIEW_ROW_LABELS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
    Row,
    application_rows,
)
from ..text import normalize_label

__all__ = ["LAYOUTS", "ENCODINGS", "EXTENSIONS", "Unrenderable", "expected", "render", "render_text", "file_name"]

#: Every layout :func:`render` writes.
LAYOUTS: tuple[str, ...] = (
    "pipe", "tab_cells", "cell_lines", "nbsp_cells", "pdf_spaces", "pdf_text", "markdown", "html",
    # (render_converted.py)
    "crawler", "md_converter", "saved_page", "saved_html", "word_html",
)
#: Every encoding :func:`render` writes (``utf-8-sig`` = UTF-8 with a BOM).
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "gb18030")
#: The file extension a rendered report of each layout would carry.
EXTENSIONS: dict[str, str] = {**{layout: ".txt" for layout in LAYOUTS}, "markdown": ".md", "md_converter": ".md",
                               "html": ".html", "saved_html": ".html", "word_html": ".htm"}

NBSP = "\xa0"

# --------------------------------------------------------------------------------------------
# Form text that is not a row of a table (headings, headers): the form prints it, templates.py
# does not need it.
# --------------------------------------------------------------------------------------------

_RESULTS_LABEL = "三、本年度办理结果"
_APPLICANTS_HEAD = "申请人情况"
_ORGS_HEAD = "法人或其他组织"
_IDENTITY_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_INFO_HEAD = "信息内容"
_CN = "〇一二三四五六七八九十"
#: Article 20 item under which table 2 prints each row (the form's legal references).
_ARTICLE_ITEM = {
    "regulations": 1, "normative_documents": 1, "licensing": 5, "other_services": 5,
    "penalty": 6, "coercion": 6, "fees": 8, "procurement": 9,
}
_SECTION_TITLES = {
    1: ("总体情况",),
    2: ("主动公开政府信息情况",),
    3: ("收到和处理政府信息公开申请情况",),
    4: ("政府信息公开行政复议、行政诉讼情况",),
    5: ("存在的主要问题及改进情况", "存在的主要问题及改进措施"),
    6: ("其他需要报告的事项",),
}
#: Column headers that depend on the row as well as the field (2019 form: 政府集中采购's amount).
_ROW_FIELD_LABELS = {("procurement", "amount_10k_yuan"): "采购总金额"}
_HALF = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";"})
#: Blank-cell tokens the parser reads as blank, by how safely a layout can carry them.
_TOKENS_CELL = ("/", "—", "-", "无", "／", "——")
_TOKENS_PDF = ("/", "—", "——", "-")
_DIGIT_EDGE = re.compile(r"(?<=[\u4e00-\u9fff])(?=[0-9])|(?<=[0-9])(?=[\u4e00-\u9fff])")
#: Punctuation a wrapped PDF line never starts with (it stays at the end of the line before).
_NO_LINE_START = frozenset("，。、；：）》”！？,.;:)")
#: Every alias of every table-3 row, normalised as the parser compares them.
_NORM_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (r.key, tuple(normalize_label(a) for a in r.aliases + r.numbered)) for r in APPLICATION_ROWS
)


# --------------------------------------------------------------------------------------------
# Style: every choice the seed makes
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Style:
    """The variations of one rendering, drawn once from the seed."""

    rng: random.Random
    layout: str
    fw: bool                 # full-width brackets and commas in labels
    num: str                 # item numbering: "." "、" "．" or "()"
    quote: tuple[str, str]   # quotes around 三安全一稳定
    partial_short: bool      # （二）部分公开 without its parenthesis
    doc_swap: bool           # 规范性文件 <-> 行政规范性文件
    article: str             # 第二十条第（一）项 pattern
    blank: str | None        # token for blank cells, None = the layout's native blank
    amount: str              # "" (plain 万元), "万元" suffix, "元" suffix
    plus: bool               # "+2" for a positive change
    thousands: bool          # "12,345" for large counts
    hbreak: bool             # header cells broken over lines
    field_alt: bool          # 本年发件 / 现行有效件 header variants
    hsep: str                # after the 一、 of a heading
    width: int               # PDF: label column width in characters


def _make_style(seed: int, layout: str) -> _Style:
    """Every variation of one rendering, drawn from ``seed`` (and the layout)."""
    k = LAYOUTS.index(layout)
    rng = random.Random(seed * 8 + k if k < 8 else f"{seed}-{layout}")  # (the first eight as they always were)
    r = rng.random
    pdf = layout.startswith("pdf")
    if pdf:
        blank: str | None = rng.choice(_TOKENS_PDF)
    elif layout == "nbsp_cells":
        blank = None if r() < 0.8 else rng.choice(_TOKENS_CELL)
    else:
        blank = None if r() < 0.55 else rng.choice(_TOKENS_CELL)
    u = r()
    return _Style(
        rng=rng,
        layout=layout,
        fw=r() < 0.6,
        num=rng.choice((".", ".", "、", "．", "()")),
        quote=("“", "”") if r() < 0.8 else ('"', '"'),
        partial_short=r() < 0.15,
        doc_swap=r() < 0.25,
        article=rng.choice(("第二十条第（{n}）项", "第二十条第({n})项", "第二十条 第（{n}）项")),
        blank=blank,
        amount="" if u < 0.6 else ("万元" if u < 0.8 else "元"),
        plus=r() < 0.6,
        thousands=not pdf and r() < 0.1,
        hbreak=r() < 0.5,
        field_alt=r() < 0.1,
        hsep="、" if r() < 0.85 else "、 ",
        width=rng.choice((12, 13, 14, 15, 16, 18, 22, 99)),
    )


def _cn(n: int) -> str:
    """A Chinese numeral (1-19)."""
    return _CN[n] if n <= 10 else "十" + _CN[n - 10]


def _half(text: str, fw: bool) -> str:
    """``text`` with half-width brackets and commas unless ``fw``."""
    return text if fw else text.translate(_HALF)


@lru_cache(maxsize=1024)
def _app_labels(fw: bool, num: str, quote: tuple[str, str], partial_short: bool) -> dict[str, str]:
    """Table 3 row labels under one choice of punctuation and numbering."""
    out = {}
    for row in APPLICATION_ROWS:
        s = row.label
        if s[0].isdigit() and s[1] == ".":
            s = (f"（{s[0]}）" if num == "()" else s[0] + num) + s[2:]
        if row.key == "partially_granted" and partial_short:
            s = s[: s.index("（", 1)]
        s = s.replace("“", quote[0]).replace("”", quote[1])
        out[row.key] = _half(s, fw)
    return out


def _group_label(group: str, fw: bool) -> str:
    """The label of a multi-row outcome group, e.g. （三）不予公开."""
    n = list(OUTCOME_GROUPS).index(group) + 1
    return _half(f"（{_cn(n)}）{OUTCOME_GROUPS[group][0]}", fw)


def _heading(n: int, sty: _Style, variant: int = 0) -> str:
    """Section heading ``n`` (一、总体情况 …)."""
    titles = _SECTION_TITLES[n]
    return f"{_cn(n)}{sty.hsep}{titles[min(variant, len(titles) - 1)]}"


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _num(v: int | float) -> str:
    """A number in plain decimal notation, integral floats without ".0"."""
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        s = repr(v)
        return format(Decimal(s), "f") if "e" in s or "E" in s else s
    return str(v)


def _count(v: int | float | None, sty: _Style) -> str | None:
    """A count as printed (None = blank)."""
    if v is None:
        return None
    if sty.thousands and isinstance(v, int) and v >= 10000:
        return f"{v:,}"
    return _num(v)


def _counts(cells: Sequence[Cell], sty: _Style) -> list[str | None]:
    """A row of counts as printed (None = blank)."""
    if sty.thousands:
        return [_count(c.value, sty) for c in cells]
    return [None if (v := c.value) is None else str(v) if type(v) is int else _num(v) for c in cells]


def _amount(v: int | float, sty: _Style) -> str:
    """An amount in 万元 as printed: plain, with 万元, or in 元 when that is exact."""
    base = _num(v)
    if sty.amount == "万元":
        return base + "万元"
    if sty.amount == "元":
        yuan = Decimal(base) * 10000
        if yuan == yuan.to_integral_value():
            return f"{int(yuan)}元"
    return base


def _pro_value(v: int | float | None, field: str, sty: _Style) -> str | None:
    """A table 2 value as printed (None = blank)."""
    if v is None:
        return None
    if field in AMOUNT_FIELDS:
        return _amount(v, sty)
    if field in SIGNED_FIELDS and v > 0 and sty.plus:
        return "+" + _num(v)
    return _count(v, sty)


def _val(cell: Cell | None) -> int | float | None:
    return None if cell is None else cell.value


# --------------------------------------------------------------------------------------------
# The form as grids of cells (every layout but the PDF ones serialises these)
# --------------------------------------------------------------------------------------------


#: A grid cell is a plain tuple (text, kind, rowspan, colspan), built fast: text None = a blank
#: value; kind "s" section row, "h" header, "l" row label, "g" group label, "v" value.  Header
#: text may hold "\n" where the cell may break over lines.
_Cell = tuple  # (str | None, str, int, int)


def _C(text: str | None, kind: str = "v", rs: int = 1, cs: int = 1) -> _Cell:
    """A grid cell."""
    return (text, kind, rs, cs)


@dataclass(slots=True)
class _Table:
    """One of the form's tables: rows of cells, column count and which rows hold data."""

    grid: list[list[_Cell]]
    width: int
    data: list[bool]          # row i is a data row (label + values)


def _hb(text: str, sty: _Style, at: int | None = None) -> str:
    """A header text, maybe with a line-break mark."""
    if not sty.hbreak or len(text) < 4 or sty.rng.random() < 0.4:
        return text
    k = at if at is not None else len(text) // 2
    return text[:k] + "\n" + text[k:]


def _pro_rows(rep: Report, sty: _Style) -> list[tuple[str, str, list[tuple[str, str | None]]]]:
    """Table 2 rows the record holds: (key, printed label, [(field, formatted value)])."""
    rows = []
    template = rep.template if rep.template in PROACTIVE_ROWS else "2021"
    for prow in PROACTIVE_ROWS[template]:
        fields = rep.proactive.get(prow.key)
        if fields is None:
            continue
        label = prow.label
        if prow.key == "normative_documents" and sty.doc_swap:
            label = "规范性文件" if label == "行政规范性文件" else "行政规范性文件"
        vals = [(f, _pro_value(_val(fields.get(f)), f, sty)) for f in prow.fields if f in fields]
        vals += [(f, _pro_value(_val(c), f, sty)) for f, c in fields.items() if f not in prow.fields]
        rows.append((prow.key, label, vals))
    return rows


def _field_label(key: str, field: str, sty: _Style) -> str:
    label = _ROW_FIELD_LABELS.get((key, field)) or PROACTIVE_FIELD_LABELS.get(field, field)
    if sty.field_alt:
        label = {"本年制发件数": "本年发件", "现行有效件数": "现行有效件"}.get(label, label)
    if field in ("made", "published"):  # 本年新 / 制作数量, as seed 001 breaks them
        return _hb(label, sty, 3)
    return _half(label, sty.fw)


def _table2(rep: Report, sty: _Style) -> _Table | None:
    """Table 2 as one grid of 4 columns: article rows, header rows, data rows."""
    rows = _pro_rows(rep, sty)
    if not rows:
        return None
    width = 1 + max(3, max(len(v) for _, _, v in rows))
    grid: list[list[_Cell]] = []
    data: list[bool] = []
    last_item = None
    last_fields: tuple[str, ...] | None = None
    for key, label, vals in rows:
        item = _ARTICLE_ITEM.get(key)
        fields = tuple(f for f, _ in vals)
        if item != last_item or fields != last_fields:
            if item is not None and item != last_item:
                grid.append([_C(_half(sty.article.format(n=_cn(item)), sty.fw), "s", cs=width)])
                data.append(False)
            head = [_C(_INFO_HEAD, "h")]
            for j, f in enumerate(fields):
                head.append(_C(_field_label(key, f, sty), "h", cs=width - len(fields) if j == len(fields) - 1 else 1))
            grid.append(head)
            data.append(False)
            last_item, last_fields = item, fields
        row = [_C(label, "l")]
        for j, (_, text) in enumerate(vals):
            row.append(_C(text, "v", cs=width - len(vals) if j == len(vals) - 1 else 1))
        grid.append(row)
        data.append(True)
    return _Table(grid, width, data)


def _variant(rep: Report) -> str:
    return "split" if any(k.startswith("other_") for k in rep.applications) else "single"


def _app_rows(rep: Report) -> list[Row]:
    return [r for r in application_rows(_variant(rep)) if r.key in rep.applications]


def _is_sub(row: Row) -> bool:
    """A row printed under a group label (1.属于国家秘密 …)."""
    return row.label[0].isdigit()


def _table3(rep: Report, sty: _Style) -> _Table:
    """Table 3 as the form's grid of 10 columns (3 label columns, 7 applicant columns)."""
    labels = _app_labels(sty.fw, sty.num, sty.quote, sty.partial_short)
    rows = _app_rows(rep)
    outcome = [r for r in rows if r.group not in ("received", "carried")]
    group_size: dict[str, int] = {}
    for r in outcome:
        if _is_sub(r):
            group_size[r.group] = group_size.get(r.group, 0) + 1
    orgs = APPLICANT_COLUMNS[1:-1]
    grid: list[list[_Cell]] = [
        [_C(_half(_IDENTITY_NOTE, sty.fw), "h", rs=3, cs=3), _C(_APPLICANTS_HEAD, "h", cs=7)],
        [_C(APPLICANT_LABELS["natural_person"][0], "h", rs=2), _C(_ORGS_HEAD, "h", cs=len(orgs)),
         _C(APPLICANT_LABELS["total"][0], "h", rs=2)],
        [_C(_hb(APPLICANT_LABELS[c][0], sty), "h") for c in orgs],
    ]
    data = [False, False, False]
    seen_groups: set[str] = set()
    for r in rows:
        cells: list[_Cell] = []
        if r.group in ("received", "carried"):
            cells.append(_C(labels[r.key], "l", cs=3))
        else:
            if r is outcome[0]:
                cells.append(_C(_RESULTS_LABEL, "g", rs=len(outcome)))
            if _is_sub(r):
                if r.group not in seen_groups:
                    seen_groups.add(r.group)
                    cells.append(_C(_group_label(r.group, sty.fw), "g", rs=group_size[r.group]))
                cells.append(_C(labels[r.key], "l"))
            else:
                cells.append(_C(labels[r.key], "l", cs=2))
        cells += [(t, "v", 1, 1) for t in _counts(rep.applications[r.key], sty)]
        grid.append(cells)
        data.append(True)
    return _Table(grid, 10, data)


def _review_heads() -> tuple[str, list[str]]:
    """Table 4's proceeding labels: 行政复议 and 行政诉讼 with its two kinds."""
    parts = [REVIEW_ROW_LABELS[k][0].split("·") for k in REVIEW_ROWS]
    return parts[1][0], [p[-1] for p in parts]


def _table4(rep: Report, sty: _Style) -> _Table:
    """Table 4 as the form's grid of 15 columns: three header rows, one row of values."""
    litigation, kinds = _review_heads()
    n = len(REVIEW_COLUMNS)
    results = [REVIEW_RESULT_LABELS[c][0] for c in REVIEW_COLUMNS]
    grid = [
        [_C(kinds[0], "h", cs=n), _C(litigation, "h", cs=n * (len(REVIEW_ROWS) - 1))],
        [_C(_hb(t, sty), "h", rs=2) for t in results] + [_C(k, "h", cs=n) for k in kinds[1:]],
        [_C(_hb(t, sty), "h") for _ in kinds[1:] for t in results],
        [(t, "v", 1, 1) for k in REVIEW_ROWS for t in _counts(rep.reviews.get(k, []), sty)],
    ]
    return _Table(grid, n * len(REVIEW_ROWS), [False, False, False, True])


def _walk(table: _Table) -> list[list[tuple[int, _Cell | None]]]:
    """Each row's cells with their column; ``None`` marks a column held by a rowspan from above
    (one entry per covering cell, at its first column)."""
    width = table.width
    until = [-1] * width
    first = [False] * width
    out = []
    for ri, row in enumerate(table.grid):
        ents: list[tuple[int, _Cell | None]] = []
        col = 0
        for cell in row:
            while col < width and until[col] >= ri:
                if first[col]:
                    ents.append((col, None))
                col += 1
            ents.append((col, cell))
            rs, cs = cell[2], cell[3]
            if rs > 1:
                for k in range(col, min(col + cs, width)):
                    until[k] = ri + rs - 1
                    first[k] = k == col
            col += cs
        while col < width:
            if until[col] >= ri and first[col]:
                ents.append((col, None))
            col += 1
        out.append(ents)
    return out


# --------------------------------------------------------------------------------------------
# Prose and metadata
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    """Everything of a report but its tables."""

    agency: str
    year: int
    title: str
    short_title: bool        # title printed as "<agency>" / "<year>年…报告" on two lines (PDF)
    published: str
    index_no: str
    publisher: str           # 发文机关 / 发布机构 as the page prints it
    pronoun: str
    intro: list[str]
    overview: list[str]
    problems: list[str]
    other: list[str]
    closing: list[str]
    problems_variant: int


def _pronoun(agency: str) -> str:
    if agency.endswith("办公室"):
        return "我办"
    if agency.endswith("人民政府") and len(agency) > 4:
        return {"区": "我区", "县": "我县", "市": "我市", "镇": "我镇", "乡": "我乡"}.get(agency[-5], "本机关")
    if agency.endswith("局"):
        return "我局"
    if agency.endswith("委员会") or agency.endswith("委"):
        return "我委"
    return "本机关"


def _short_publisher(agency: str) -> str:
    """A shortened issuing body as some pages print it (市工业和信息化局 for 抚州市工业和信息化局)."""
    for mark in ("市", "区", "县"):
        k = agency.find(mark)
        if 0 < k < len(agency) - 3:
            return agency[k:] if agency[k:].startswith(mark) else agency
    return agency


_INTROS = (
    "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作年度报告格式》要求，"
    "现公布{a}{y}年政府信息公开工作年度报告。本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。"
    "如对本报告有疑问，请与{a}办公室联系（电话：0{ac}-{ph}）。",
    "本报告由{a}根据《中华人民共和国政府信息公开条例》（国令第711号）要求编制。报告中所列数据统计期限自{y}年1月1日起"
    "至{y}年12月31日止。本报告电子版可在{a}门户网站下载，如对本报告有疑问，请与{a}联系（邮编：{zip}）。",
    "根据《中华人民共和国政府信息公开条例》要求，{p}年度公开报告内容包括总体情况，主动公开政府信息情况，收到和处理政府信息"
    "公开申请情况，政府信息公开行政复议、行政诉讼情况，存在的主要问题及改进情况和其他需要报告的事项六个部分。"
    "所列数据截止日期为{y}年12月31日。",
)
_OVERVIEW = (
    "{y}年，{p}认真贯彻落实《条例》和国家、省、市关于政务公开工作的决策部署，紧紧围绕中心工作，加大公开力度、落实公开任务、"
    "回应群众关切，政府信息公开工作取得了积极成效。",
    "（一）主动公开情况。{y}年，{p}通过门户网站主动公开各类政府信息{n1}条，其中政策文件{n2}件，政策解读{n3}篇，"
    "召开新闻发布会{n4}场。",
    "（二）依申请公开情况。{y}年，{p}共受理政府信息公开申请{n5}件，其中予以公开{n6}件，部分公开{n7}件，无法提供{n8}件，"
    "均在法定期限内予以答复。",
    "（三）政府信息管理情况。严格落实“先审查、后公开”和“一事一审”原则，建立健全信息发布协调机制，全年审核信息{n9}条。",
    "（四）政府信息公开平台建设情况。持续优化政府网站政务公开专栏，在运维政务新媒体{n4}个，全年发布信息{n1}条。",
    "（五）政府信息公开监督保障情况。将政务公开工作纳入年度绩效考核，分值权重占{pct}%，组织业务培训{n3}次。",
)
_PROBLEMS = (
    "{y}年，{p}政府信息公开工作取得了一定成效，但仍存在一些不足：一是政策解读形式不够丰富；二是信息公开的时效性有待加强。",
    "针对上述问题，{ny}年{p}将重点做好以下工作：一是加强政策解读，提升解读质量；二是规范信息发布流程，确保信息及时准确公开。",
)
_OTHER = (
    "{y}年度{p}未收取信息处理费。",
    "{y}年，{p}严格落实《政府信息公开信息处理费管理办法》，全年收取政府信息公开信息处理费{fee}元。",
    "{p}无其他需要报告的事项。",
)


def _doc(rep: Report, sty: _Style) -> _Doc:
    """Title, metadata and prose for ``rep``; numbers and dates in the prose vary with the seed."""
    rng = sty.rng
    agency = rep.agency or "某某区人民政府"
    year = rep.year if rep.year is not None else 2021
    ny = year + 1
    p = _pronoun(agency)
    nums = {
        "a": agency, "y": year, "ny": ny, "p": p,
        "ac": rng.randint(10, 999), "ph": rng.randint(1000000, 89999999), "zip": rng.randint(100000, 859999),
        "pct": rng.randint(2, 15), "fee": rng.choice((0, 0, 0, rng.randint(1, 5000))),
        **{f"n{i}": rng.choice((rng.randint(0, 30), rng.randint(10, 9999))) for i in range(1, 10)},
    }
    title = f"{agency}{year}年{'度' if rng.random() < 0.15 else ''}政府信息公开工作年度报告"
    intro = [rng.choice(_INTROS).format(**nums)]
    overview = [t.format(**nums) for t in _OVERVIEW if rng.random() < 0.8 or t is _OVERVIEW[0]]
    problems = [t.format(**nums) for t in _PROBLEMS]
    other = [rng.choice(_OTHER).format(**nums)]
    day = rng.randint(10, 31)
    closing = [agency, f"{ny}年1月{day}日"] if rng.random() < 0.6 else [f"{ny}年1月{day}日"]
    publisher = agency if rng.random() < 0.7 else _short_publisher(agency)
    index_no = rng.choice((f"{rng.randint(110000, 659999)}-{rng.randint(0, 99):03d}/{ny}-{rng.randint(0, 99999):05d}",
                           f"{rng.choice('ABCDFGHJKPXZ')}{rng.choice('XYZQ')}{rng.randint(1, 9999):04d}/{ny}"
                           f"-{rng.randint(0, 99999):05d}"))
    if rep.division_code:
        # the body's site numbers its documents under its division code (the synthetic corpus sets it)
        index_no = f"{rep.division_code}-{index_no.split('-', 1)[-1]}" if index_no[0].isdigit() else \
            f"{rep.division_code}-{index_no[2:6]}/{ny}-{index_no[-5:]}"
    elif rep.index_number:
        index_no = rep.index_number  # a site whose 索引号 carries no division code
    return _Doc(
        agency=agency, year=year, title=title, short_title=rng.random() < 0.6,
        published=f"{ny}-01-{day:02d}",
        index_no=index_no,
        publisher=publisher, pronoun=p, intro=intro, overview=overview, problems=problems,
        other=other, closing=closing, problems_variant=1 if rng.random() < 0.2 else 0,
    )


# --------------------------------------------------------------------------------------------
# Grid layouts
# --------------------------------------------------------------------------------------------


def _text(cell: _Cell, blank: str, brk: str) -> str:
    t = cell[0]
    if t is None:
        return blank
    return t.replace("\n", brk) if "\n" in t else t


def _pipe_table(table: _Table, sty: _Style) -> list[str]:
    """Seeds 000/004: cells joined by " | ", rows padded with "|" to the table's width."""
    blank = sty.blank if sty.blank is not None else ""
    brk = " " if sty.rng.random() < 0.6 else ""
    out = []
    walked = _walk(table)
    for i, ents in enumerate(walked):
        texts = [_text(c, blank, brk) for _, c in ents if c is not None]
        if texts and texts[0] == "":
            # a leading empty cell looks like a markdown row's leading "|": print a token instead
            texts[0] = sty.blank or "/"
        line = " | ".join(texts) + " |"
        if i < len(walked) - 1 and table.width > len(texts):
            line += " " + "|" * (table.width - len(texts))
        out.append(line)
    return out


def _lay_pipe(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A web page flattened to text with ``|``-separated table rows (seeds 000, 004)."""
    rng = sty.rng
    out: list[str] = []
    no_title = rng.random() < 0.2
    if no_title or rng.random() < 0.5:  # seed 000: metadata as one pipe row per line
        out.append(f"索 引 号: {doc.index_no} | 发文机关: {doc.agency if no_title else doc.publisher} | 文 号: |")
        out.append(f"组配分类: 信息公开年报 | 成文日期: {doc.published} |")
    else:  # seed 004: one field per line
        out += [f"索 引 号:{doc.index_no}", f"发文机关: {doc.publisher}", "文 号:", "文件有效性:",
                f"成文日期: {doc.published}"]
    if no_title:
        out.append(f"{doc.year}年，{doc.agency}认真贯彻落实《中华人民共和国政府信息公开条例》，严格执行政府信息公开的各项规定。")
        out.append(f"现将{doc.year}年度政府信息公开工作情况报告如下:")
    else:
        out.append(doc.title)
        out += doc.intro
    out.append(_heading(1, sty))
    out += doc.overview
    t2 = _table2(rep, sty)
    out.append(_heading(2, sty))
    if t2 is not None:
        out += _pipe_table(t2, sty)
    out.append(_heading(3, sty))
    out += _pipe_table(_table3(rep, sty), sty)
    out.append(_heading(4, sty))
    out += _pipe_table(_table4(rep, sty), sty)
    out.append(_heading(5, sty, doc.problems_variant))
    out += doc.problems
    out.append(_heading(6, sty))
    out += doc.other
    out += doc.closing
    return "\n".join(out)


def _tab_table(table: _Table, sty: _Style) -> list[str]:
    """Seed 001: one cell per line with a leading TAB; rowspan-held columns print an empty cell."""
    blank = sty.blank if sty.blank is not None else ""
    brk = "\n" if sty.rng.random() < 0.7 else ""
    out = []
    for ents in _walk(table):
        for _, c in ents:
            out.append("\t" if c is None else "\t" + _text(c, blank, brk))
        out.append("")
    return out


def _lay_tab_cells(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A web page flattened one cell per TAB-led line, rows separated by empty lines (seed 001)."""
    out = [doc.title, ""]
    out += ["· " + doc.intro[0]] + [p for p in doc.intro[1:]]
    out.append(_heading(1, sty))
    out += doc.overview
    out.append(_heading(2, sty))
    t2 = _table2(rep, sty)
    if t2 is not None:
        out += _tab_table(t2, sty)
        out += ["", ""]
    out.append(_heading(3, sty))
    out += _tab_table(_table3(rep, sty), sty)
    out += ["", ""]
    out.append(_heading(4, sty))
    out.append("")
    out += _tab_table(_table4(rep, sty), sty)
    out += ["", ""]
    out.append(_heading(5, sty, doc.problems_variant))
    out += doc.problems
    out.append(_heading(6, sty))
    out += doc.other
    out += doc.closing + ["", ""]
    return "\n".join(out)


def _cell_lines_table(table: _Table, sty: _Style) -> list[str]:
    """Seed 002: one cell per line, rowspan-held columns skipped."""
    blank = sty.blank if sty.blank is not None else NBSP
    brk = "\n\n" if sty.rng.random() < 0.5 else "\n" + NBSP + " "
    out = []
    for ents in _walk(table):
        for _, c in ents:
            if c is not None:
                out.append(_text(c, blank, brk))
    return out


def _lay_cell_lines(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A web page flattened one cell per line between empty lines, no row markers (seed 002)."""
    rng = sty.rng
    ind = NBSP + " " + NBSP + " " + NBSP + " " + NBSP
    hind = NBSP + " " + NBSP if rng.random() < 0.5 else ""
    out = ["当前位置:首页", "> 政务公开 > 信息公开年报 > " + f"{doc.year + 1}年",
           f"索引号: {doc.index_no} 公开方式: 主动公开", f"文号: 公开日期: {doc.published}",
           f"发布单位: {doc.publisher} 有效性:", "统一编号:",
           doc.title, f"发布日期:{doc.published} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d} "
           f"信息来源:{doc.publisher} 浏览次数:"]
    out += [ind + p for p in doc.intro]
    out.append(hind + _heading(1, sty))
    out += [ind + p for p in doc.overview]
    odd = rng.random() < 0.15  # seed 002's list numbering: "一、 主动公开…" then "二、 第二十条第(一)项"
    out.append(("一、 " + _SECTION_TITLES[2][0]) if odd else _heading(2, sty))
    t2 = _table2(rep, sty)
    if t2 is not None:
        cells = _cell_lines_table(t2, sty)
        if odd:
            cells[0] = "二、 " + cells[0]
        out += cells + [NBSP]
    out.append(_heading(3, sty))
    out += [NBSP] + _cell_lines_table(_table3(rep, sty), sty) + [NBSP]
    out.append(_heading(4, sty))
    out += [NBSP] + _cell_lines_table(_table4(rep, sty), sty) + [""]
    out.append(_heading(5, sty, doc.problems_variant))
    out += [ind + p for p in doc.problems]
    out.append(hind + _heading(6, sty))
    out += [ind + p for p in doc.other] + doc.closing + ["", "关闭", "打印"]
    return "\n\n".join(out)


def _nbsp_table(table: _Table, sty: _Style) -> list[str]:
    """Seed 003: each cell then a line of two spaces; a run of blank cells is one line of NBSPs."""
    out: list[str] = []
    blank_token = sty.blank
    for ents in _walk(table):
        run = 0
        for _, c in ents:
            if c is None:
                continue
            if c[0] is None and blank_token is None:
                run += 1
                continue
            if run:
                out.append(" ".join([NBSP] * run))
                run = 0
            out.append(_text(c, blank_token or "", ""))
            out.append("  ")
        if run:
            out.append(" ".join([NBSP] * run))
    return out


def _lay_nbsp_cells(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A web page flattened one cell per line, "  " separators, blank runs as NBSP lines (seed 003)."""
    rng = sty.rng
    sep = NBSP * 5
    out = [doc.title, f"www.{rng.choice(('dongqu', 'gov', 'xxq', 'panzhihua'))}.gov.cn{sep}发布时间:{doc.published}"
                      f"{sep}来源:{doc.publisher}{sep} 选择阅读字号:[ ]{sep}阅读次数:"]
    out.append("  " + _heading(1, sty))
    out += ["  " + p for p in doc.intro + doc.overview]
    out.append("  " + _heading(2, sty))
    t2 = _table2(rep, sty)
    if t2 is not None:
        out += ["  "] + _nbsp_table(t2, sty) + [NBSP, NBSP]
    out.append("  " + _heading(3, sty))
    out += ["  "] + _nbsp_table(_table3(rep, sty), sty)
    out.append("  " + _heading(4, sty))
    out += ["  "] + _nbsp_table(_table4(rep, sty), sty)
    out += [_heading(5, sty, doc.problems_variant), "  "]
    for p in doc.problems:
        out += [p, "  "]
    out += [_heading(6, sty), "  "]
    for p in doc.other + doc.closing:
        out += [p, "  "]
    out.append("点击下载此文件")
    return "\n\n".join(out)


def _md_rows(table: _Table, sty: _Style) -> list[tuple[list[str], bool]]:
    """Markdown rows at full width (every spanned column an empty cell), with a flag for data rows."""
    blank = sty.blank if sty.blank is not None else ""
    brk = "<br>" if sty.rng.random() < 0.5 else ""
    rows = []
    for i, ents in enumerate(_walk(table)):
        texts = [""] * table.width
        for col, c in ents:
            if c is not None:
                texts[col] = _text(c, blank, brk)
        rows.append((texts, table.data[i]))
    return rows


def _md_line(texts: list[str]) -> str:
    """One markdown table row."""
    return "| " + " | ".join(texts) + " |"


def _md_tables(table: _Table, sty: _Style, split: int, label_cols: int, footer: list[int]) -> list[str]:
    """A table as markdown mini-tables: ``split`` page breaks; some data rows printed as a label row
    and a value row with empty label cells (a converter that split a tall row)."""
    rng = sty.rng
    rows = _md_rows(table, sty)
    units: list[list[list[str]]] = []  # rows that must stay together
    for texts, data in rows:
        values = texts[label_cols:]
        label = "".join(texts[:label_cols])
        if (data and label_cols and len(label) >= 10 and any(v not in ("", sty.blank) for v in values)
                and rng.random() < 0.25):
            top = texts[:label_cols] + [""] * len(values) if rng.random() < 0.5 else texts[:label_cols]
            units.append([top, [""] * label_cols + values])
        else:
            units.append([texts])
    cuts = sorted(rng.sample(range(3, len(units)), min(split, max(0, len(units) - 3)))) if split else []
    out: list[str] = []
    start = 0
    for end in cuts + [len(units)]:
        part = [r for u in units[start:end] for r in u]
        if not part:
            continue
        if start:
            out.append("")
            if rng.random() < 0.5:
                footer[0] += 1
                out += [f"- {footer[0]} -", ""]
        out.append(_md_line(part[0]))
        out.append("|" + "|".join(["---"] * table.width) + "|")
        out += [_md_line(r) for r in part[1:]]
        start = end
    return out


def _lay_markdown(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A PDF converted to markdown: headings, paragraphs and pipe tables split at page breaks."""
    rng = sty.rng
    hstyle = rng.choice(("## {}", "**{}**", "{}"))
    footer = [1]
    out = [("# " if rng.random() < 0.5 else "") + doc.title, ""]
    for p in doc.intro:
        out += [p, ""]
    out += [hstyle.format(_heading(1, sty)), ""]
    for p in doc.overview:
        out += [p, ""]
    out += [hstyle.format(_heading(2, sty)), ""]
    t2 = _table2(rep, sty)
    if t2 is not None:
        out += _md_tables(t2, sty, rng.choice((0, 0, 1)), 1, footer) + [""]
    out += [hstyle.format(_heading(3, sty)), ""]
    out += _md_tables(_table3(rep, sty), sty, rng.choice((1, 1, 2)), 3, footer) + [""]
    out += [hstyle.format(_heading(4, sty)), ""]
    out += _md_tables(_table4(rep, sty), sty, 0, 0, footer) + [""]
    out += [hstyle.format(_heading(5, sty, doc.problems_variant)), ""]
    for p in doc.problems:
        out += [p, ""]
    out += [hstyle.format(_heading(6, sty)), ""]
    for p in doc.other + doc.closing:
        out += [p, ""]
    return "\n".join(out)


def _html_table(table: _Table, sty: _Style, nl: str) -> str:
    """A ``<table>`` with the form's rowspans and colspans; blanks as ``&nbsp;``, empty or a token."""
    rng = sty.rng
    blank = sty.blank if sty.blank is not None else rng.choice(("&nbsp;", "&nbsp;", ""))
    brk = rng.choice(("<br>", "<br/>", "<br />\n", ""))
    wrap = rng.choice(("{}", "<p>{}</p>", '<p style="text-align:center"><span style="font-size:14px">{}</span></p>'))
    ents_q = rng.random() < 0.5
    parts = [f'<table border="1" cellspacing="0" cellpadding="0" width="{rng.choice((600, 620, 100))}"><tbody>']
    for row in table.grid:
        cells = []
        for c in row:
            attrs = ""
            text, _, rs, cs = c
            if rs > 1:
                attrs += f' rowspan="{rs}"'
            if cs > 1:
                attrs += f' colspan="{cs}"'
            if text is None:
                text = blank
            else:
                text = text.replace("\n", brk) if "\n" in text else text
                if ents_q:
                    text = text.replace("“", "&ldquo;").replace("”", "&rdquo;")
            cells.append(f"<td{attrs}>{wrap.format(text)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return nl.join(parts)


_SCRIPT = ('<script type="text/javascript">var _hmt = _hmt || [];(function() {{var hm = document.createElement("script");'
           'hm.src = "https://hm.baidu.com/hm.js?{h}";var s = document.getElementsByTagName("script")[0];'
           's.parentNode.insertBefore(hm, s);}})();</script>')


def _lay_html(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """A full HTML page: head with charset, title and scripts, metadata div, tables in the body."""
    rng = sty.rng
    nl = "\n" if rng.random() < 0.6 else ""
    charset = {"utf-8": "utf-8", "utf-8-sig": "UTF-8", "gb18030": "gb18030"}[encoding]
    meta = (f'<meta charset="{charset}">' if rng.random() < 0.5
            else f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">')
    site = rng.choice(("", "_" + doc.agency + "门户网站", " - 政府信息公开"))
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))

    def para(text: str) -> str:
        return f'<p style="text-indent:2em">{text}</p>'

    def head(n: int, v: int = 0) -> str:
        return rng.choice(("<p><strong>{}</strong></p>", "<h3>{}</h3>", '<p class="title2">{}</p>')).format(
            _heading(n, sty, v))

    body = ['<div class="nav">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 信息公开年报</div>',
            f'<h1 class="article-title">{doc.title}</h1>',
            f'<div class="article-meta"><span>索引号：{doc.index_no}</span> <span>发布机构：{doc.publisher}</span> '
            f'<span>发布日期：{doc.published}</span></div>', '<div class="TRS_Editor">']
    body += [para(p) for p in doc.intro]
    body.append(head(1))
    body += [para(p) for p in doc.overview]
    body.append(head(2))
    t2 = _table2(rep, sty)
    if t2 is not None:
        body.append(_html_table(t2, sty, nl))
    body.append(head(3))
    body.append(_html_table(_table3(rep, sty), sty, nl))
    body.append(head(4))
    body.append(_html_table(_table4(rep, sty), sty, nl))
    body.append(head(5, doc.problems_variant))
    body += [para(p) for p in doc.problems]
    body.append(head(6))
    body += [para(p) for p in doc.other]
    body += [f'<p style="text-align:right">{p}</p>' for p in doc.closing]
    body.append("</div>")
    body.append('<script>document.getElementById("print").onclick = function () { window.print(); };</script>')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="zh-CN">', "<head>", meta,
        f"<title>{doc.title}{site}</title>", _SCRIPT.format(h=h),
        "<style>.TRS_Editor p{line-height:2em;font-size:16px} td{border:1px solid #000}</style>", "</head>",
        "<body>", *body, "</body>", "</html>",
    ])


# --------------------------------------------------------------------------------------------
# PDF text layouts
# --------------------------------------------------------------------------------------------

_XV3 = (44, 49, 53, 56, 60, 64, 68)       # table 3 value columns (pdf_spaces)
_X_TOP, _X_VERT, _X_GROUP, _X_ROW, _X_SUB = 11, 12, 14, 14, 25
_PAGE_WIDTH = 82


class _PL:
    """A PDF text line: segments at columns, and what the line is."""

    __slots__ = ("segs", "kind", "vert")

    def __init__(self, segs: list[tuple[int, str]], kind: str = "text") -> None:
        self.segs = segs
        self.kind = kind     # text, label, values, stand (standalone fragment), footer, blank
        self.vert = False


def _vals_segs(tokens: Sequence[str], xs: Sequence[int]) -> list[tuple[int, str]]:
    return [(x, t) for x, t in zip(xs, tokens)]


def _alias_ends(norm: str, key: str) -> list[int]:
    """Where each alias of row ``key`` found in ``norm`` ends."""
    ends = []
    for k, aliases in _NORM_ALIASES:
        if k == key:
            for a in aliases:
                i = norm.find(a)
                if i >= 0:
                    ends.append(i + len(a))
    return ends


def _foreign_alias(text: str, key: str) -> bool:
    """Whether ``text`` carries an alias of a row other than ``key``."""
    n = normalize_label(text)
    return any(k != key and any(a in n for a in aliases) for k, aliases in _NORM_ALIASES)


@lru_cache(maxsize=4096)
def _break_label(label: str, key: str, width: int) -> tuple[str, ...]:
    """A long label broken the way a narrow PDF cell breaks it; the first piece keeps an alias of
    its row, no later piece carries another row's alias."""
    if len(label) <= width:
        return (label,)
    ends = _alias_ends(normalize_label(label), key)
    first = max(width, min(ends)) if ends else width
    for cut in range(first, len(label)):
        pieces = [label[:cut]] + [label[i:i + width] for i in range(cut, len(label), width)]
        if len(pieces) > 1 and len(pieces[-1]) < 2:
            tail = pieces.pop()
            pieces[-1] += tail
        if not any(_foreign_alias(p, key) for p in pieces[1:]) and all(pieces):
            return tuple(pieces)
    return (label,)


def _head_block(columns: Sequence[Sequence[str]], xs: Sequence[int], offsets: Sequence[int] | None = None
                ) -> list[_PL]:
    """Column headers stacked over several lines, each column centred vertically."""
    offs = list(offsets) if offsets is not None else [0] * len(columns)
    height = max(len(c) + o for c, o in zip(columns, offs))
    lines = [[] for _ in range(height)]  # type: list[list[tuple[int, str]]]
    for col, x, off in zip(columns, xs, offs):
        top = off + (height - off - len(col)) // 2
        for k, chunk in enumerate(col):
            lines[top + k].append((x, chunk))
    return [_PL(segs) for segs in lines if segs]


def _chunks(text: str, w: int) -> list[str]:
    return [text[i:i + w] for i in range(0, len(text), w)] or [text]


def _pdf_table2(rep: Report, sty: _Style) -> list[_PL]:
    """Table 2 as PDF text: article lines, header lines, one line per row."""
    rows = _pro_rows(rep, sty)
    out: list[_PL] = []
    blank = sty.blank or "/"
    last_item = None
    last_fields: tuple[str, ...] | None = None
    for key, label, vals in rows:
        item = _ARTICLE_ITEM.get(key)
        fields = tuple(f for f, _ in vals)
        n = len(fields)
        xs = {1: (50,), 2: (42, 60), 3: (40, 53, 65)}.get(n, tuple(40 + 10 * j for j in range(n)))
        if item != last_item or fields != last_fields:
            if item is not None and item != last_item:
                art = sty.article.format(n=_cn(item))
                out.append(_PL([(33, _half(art, sty.fw))]))
            heads = [_ROW_FIELD_LABELS.get((key, f)) or PROACTIVE_FIELD_LABELS.get(f, f) for f in fields]
            if sty.field_alt:
                heads = [{"本年制发件数": "本年发件", "现行有效件数": "现行有效件"}.get(h, h) for h in heads]
            heads = [_half(h, sty.fw) for h in heads]
            if sty.hbreak and sty.rng.random() < 0.3 and all(len(h) >= 6 and "金额" not in h for h in heads):
                cols = [[_INFO_HEAD]] + [[h[:3], h[3:]] for h in heads]
                out += _head_block(cols, (18,) + tuple(x - 2 for x in xs))
            else:
                out.append(_PL([(18, _INFO_HEAD)] + [(x - 4, h) for x, h in zip(xs, heads)]))
            last_item, last_fields = item, fields
        out.append(_PL([(11, label)] + _vals_segs([blank if t is None else t for _, t in vals], xs), "label"))
    return out


def _pdf_table3(rep: Report, sty: _Style) -> list[_PL]:
    """Table 3 as PDF text: stacked headers, broken labels, values moved off their label's line,
    group labels and the vertical 三、本年度办理结果 spread over the outcome rows."""
    rng = sty.rng
    labels = _app_labels(sty.fw, sty.num, sty.quote, sty.partial_short)
    if rng.random() < 0.3:  # the real typo of hzq2023/2024
        labels = {**labels, "denied_prohibited_by_law": labels["denied_prohibited_by_law"].replace("行政法规禁止", "行政止")}
    blank = sty.blank or "/"
    rows = _app_rows(rep)
    out: list[_PL] = []

    # header: note, 申请人情况, 法人或其他组织, then the columns stacked over several lines
    note = _half(_IDENTITY_NOTE, sty.fw)
    k = rng.randint(20, 26)
    w = rng.choice((2, 2, 3, 4))
    cols = [[APPLICANT_LABELS["natural_person"][0]]] + [
        _chunks(APPLICANT_LABELS[c][0], w) if len(APPLICANT_LABELS[c][0]) > 2 else [APPLICANT_LABELS[c][0]]
        for c in APPLICANT_COLUMNS[1:-1]] + [[APPLICANT_LABELS["total"][0]]]
    out.append(_PL([(53, _APPLICANTS_HEAD)]))
    if rng.random() < 0.5:
        out += [_PL([(52, _ORGS_HEAD)]), _PL([(11, note[:k])]), _PL([(11, note[k:])])]
    else:
        out += [_PL([(11, note[:k]), (52, _ORGS_HEAD)]), _PL([(11, note[k:])])]
    out += _head_block(cols, (43, 48, 52, 56, 60, 64, 68))

    outcome_lines: list[_PL] = []
    spans: dict[str, list[int]] = {}
    after: list[_PL] = []
    for r in rows:
        tokens = [blank if t is None else t for t in _counts(rep.applications[r.key], sty)]
        vals = _vals_segs(tokens, _XV3)
        label = labels[r.key]
        if r.group in ("received", "carried"):
            line = _PL([(_X_TOP, label)] + vals, "label")
            (after if r.group == "carried" else out).append(line)
            continue
        x = _X_SUB if _is_sub(r) else _X_ROW
        frags = list(_break_label(label, r.key, sty.width))
        if len(frags) > 1 and rng.random() < 0.25 and len(frags[1]) > 3:
            frags[0] = frags[0] + " " + frags[1][:3]  # "（二）部分公开（区分处理的，只计这一情 形，不"
            frags[1] = frags[1][3:]
        u = rng.random()
        lines: list[_PL]
        if len(frags) == 1:
            if u < 0.7:
                lines = [_PL([(x, frags[0])] + vals, "label")]
            elif u < 0.85:
                lines = [_PL(vals, "values"), _PL([(x, frags[0])], "label")]
            else:
                lines = [_PL([(x, frags[0])], "label"), _PL(vals, "values")]
        else:
            lab = [_PL([(x, f)], "label") for f in frags]
            mid = len(frags) // 2
            if u < 0.45:      # values between the pieces (vertically centred)
                lines = lab[:mid] + [_PL(vals, "values")] + lab[mid:]
            elif u < 0.7:     # values on a piece's line
                j = mid if len(frags) > 2 or rng.random() < 0.5 else 0
                lab[j].segs += vals
                lines = lab
            elif u < 0.85:
                lines = [_PL(vals, "values")] + lab
            else:
                lines = lab + [_PL(vals, "values")]
        if _is_sub(r):
            spans.setdefault(r.group, []).extend(range(len(outcome_lines), len(outcome_lines) + len(lines)))
        outcome_lines += lines

    # group labels: standalone, prefixed to a row's line, or broken in two
    for group in sorted(spans, key=lambda g: -spans[g][0]):
        idx = spans[group]
        glabel = _group_label(group, sty.fw)
        mid = idx[len(idx) // 2]
        label_idx = [i for i in idx if outcome_lines[i].kind == "label"]
        near = min(label_idx, key=lambda i: abs(i - mid)) if label_idx else None
        u = rng.random()
        if near is not None and u < 0.35:
            outcome_lines[near].segs.insert(0, (_X_GROUP, glabel))
        elif near is not None and u < 0.55:
            cut = rng.randint(4, len(glabel) - 2)
            outcome_lines[near].segs.insert(0, (_X_GROUP, glabel[:cut]))
            outcome_lines.insert(near + 1, _PL([(_X_GROUP, glabel[cut:])], "stand"))
        elif u < 0.85:
            outcome_lines.insert(mid, _PL([(_X_GROUP, glabel)], "stand"))
        else:
            outcome_lines.insert(idx[0], _PL([(_X_GROUP, glabel)], "stand"))

    # the vertical label 三、本年度办理结果, one or two characters per line, centred on the region
    chars = _RESULTS_LABEL
    pieces: list[str] = []
    i = 0
    while i < len(chars):
        step = 2 if rng.random() < 0.2 else 1
        pieces.append(chars[i:i + step])
        i += step
    stride = rng.choice((1, 1, 2))
    n = len(outcome_lines)
    start = max(0, n // 2 - (len(pieces) * stride) // 2)
    positions = [min(n - 1, start + j * stride) for j in range(len(pieces))]
    for pos, piece in sorted(zip(positions, pieces), key=lambda t: -t[0]):
        target = outcome_lines[pos]
        if target.kind == "label" and not target.vert and rng.random() < 0.6:
            target.segs.insert(0, (_X_VERT, piece))
            target.vert = True
        else:
            outcome_lines.insert(pos, _PL([(_X_VERT, piece)], "stand"))
    out += outcome_lines + after
    return out


def _pdf_table4(rep: Report, sty: _Style) -> list[_PL]:
    """Table 4 as PDF text: headers over several lines, the 15 values on one line."""
    rng = sty.rng
    blank = sty.blank or "/"
    litigation, kinds = _review_heads()
    out = [_PL([(19, kinds[0]), (48, litigation)]), _PL([(36, kinds[1]), (62, kinds[2])])]
    results = [REVIEW_RESULT_LABELS[c][0] for c in REVIEW_COLUMNS]
    tot = "总 计" if rng.random() < 0.5 else "总计"
    cols = [[tot] if len(t) <= 2 else _chunks(t, 2) for t in results] * len(REVIEW_ROWS)
    xs = [12 + 4 * j for j in range(len(cols))]
    offs = [0] * len(results) + [1] * (len(cols) - len(results)) if rng.random() < 0.5 else None
    out += _head_block(cols, xs, offs)
    tokens = [blank if t is None else t for k in REVIEW_ROWS for t in _counts(rep.reviews.get(k, []), sty)]
    out.append(_PL(_vals_segs(tokens, [12 + 4 * j for j in range(len(tokens))]), "values"))
    return out


def _wrap(text: str, width: int) -> list[str]:
    """Prose wrapped at ``width`` characters, never inside a run of ASCII letters and digits."""
    out = []
    i, n = 0, len(text)
    while i < n:
        j = min(n, i + width)
        while i + 1 < j < n and text[j - 1].isascii() and text[j].isascii() and text[j] != " ":
            j -= 1
        while j < n and text[j] in _NO_LINE_START:
            j += 1
        out.append(text[i:j].strip())
        i = j
    return [ln for ln in out if ln]


def _place(segs: Sequence[tuple[int, str]]) -> str:
    """A line with each segment at its column (at least two spaces apart), as layout=True prints."""
    buf = ""
    for x, t in segs:
        if buf and len(buf) + 2 > x:
            buf += "  "
        elif len(buf) < x:
            buf += " " * (x - len(buf))
        buf += t
    return buf


def _lay_pdf(rep: Report, sty: _Style, doc: _Doc, encoding: str) -> str:
    """Text extracted from a PDF: wrapped prose, page footers, and the tables as lines
    (``pdf_text``: single spaces; ``pdf_spaces``: columns, blank lines, padded to the page width)."""
    rng = sty.rng
    spaces = sty.layout == "pdf_spaces"
    width = rng.randint(26, 30)
    gap = " " if not spaces else " " * rng.choice((1, 1, 2, 3, 6))
    lines: list[_PL] = []

    def prose(paragraphs: Sequence[str]) -> None:
        for p in paragraphs:
            for k, ln in enumerate(_wrap(p, width)):
                lines.append(_PL([(15 if k == 0 else 10, _DIGIT_EDGE.sub(gap, ln))]))

    if doc.short_title:
        lines += [_PL([(26, doc.agency)]), _PL([(18, _DIGIT_EDGE.sub(gap, doc.title[len(doc.agency):]))])]
    else:
        lines.append(_PL([(12, doc.title)]))
    prose(doc.intro)
    lines.append(_PL([(15, _heading(1, sty))]))
    prose(doc.overview)
    lines.append(_PL([(15, _heading(2, sty))]))
    t2_start = len(lines)
    lines += _pdf_table2(rep, sty)
    lines.append(_PL([(14, _heading(3, sty))]))
    t3_start = len(lines)
    lines += _pdf_table3(rep, sty)
    t3_end = len(lines)
    lines.append(_PL([(14, _heading(4, sty))]))
    lines += _pdf_table4(rep, sty)
    lines.append(_PL([(14, _heading(5, sty, doc.problems_variant))]))
    prose(doc.problems)
    lines.append(_PL([(15, _heading(6, sty))]))
    prose(doc.other)
    for c in doc.closing:
        lines.append(_PL([(50, c)]))

    # page footers "- N -": every page_len lines, one forced inside table 3's rows
    page_len = rng.randint(22, 34)
    breaks = set(range(page_len, len(lines), page_len))
    if not any(t3_start + 9 < b < t3_end for b in breaks) and t3_end - t3_start > 12:
        breaks.add(rng.randint(t3_start + 10, t3_end - 1))
    if rng.random() < 0.5 and t3_start - t2_start > 6:
        breaks.add(rng.randint(t2_start + 2, t3_start - 1))
    out: list[str] = []
    page = 1
    for i, ln in enumerate(lines):
        if i in breaks:
            if spaces:
                out += [" " * _PAGE_WIDTH] * rng.randint(1, 3)
                out.append((" " * rng.choice((16, 64)) + f"- {page} -").ljust(_PAGE_WIDTH))
                out += [" " * _PAGE_WIDTH] * rng.randint(5, 9)
            else:
                out.append(f"- {page} -")
            page += 1
        if spaces:
            out.append(_place(ln.segs).ljust(_PAGE_WIDTH))
            if ln.kind in ("text",) or (ln.kind == "label" and i < t3_start and rng.random() < 0.7):
                out += [" " * _PAGE_WIDTH] * (1 if rng.random() < 0.8 else 2)
            elif rng.random() < 0.08:
                out.append(" " * _PAGE_WIDTH)
        else:
            out.append(" ".join(t for _, t in ln.segs))
    out.append(f"- {page} -" if not spaces else (" " * 64 + f"- {page} -").ljust(_PAGE_WIDTH))
    if spaces:
        out = [" " * _PAGE_WIDTH] * 6 + out
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

from . import render_converted as _converted  # noqa: E402  (it uses this module's helpers)

_LAYOUT_FUNCS = {
    "pipe": _lay_pipe,
    "tab_cells": _lay_tab_cells,
    "cell_lines": _lay_cell_lines,
    "nbsp_cells": _lay_nbsp_cells,
    "pdf_spaces": _lay_pdf,
    "pdf_text": _lay_pdf,
    "markdown": _lay_markdown,
    "html": _lay_html,
    **_converted.LAYOUT_FUNCS,
}
assert set(_LAYOUT_FUNCS) == set(LAYOUTS)

#: A record printed in a layout that cannot carry it without the parser misreading a cell.
Unrenderable = _converted.Unrenderable


def render_text(report: Report, layout: str, *, seed: int = 0, encoding: str = "utf-8") -> str:
    """The report as the text of a file in ``layout`` (``encoding`` only names the HTML charset)."""
    if layout not in _LAYOUT_FUNCS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    sty = _make_style(seed, layout)
    doc = _doc(report, sty)
    return _LAYOUT_FUNCS[layout](report, sty, doc, encoding)


def expected(report: Report, layout: str, *, seed: int = 0) -> Report:
    """The record :func:`ingestion.parse.parse_bytes` returns for ``render(report, layout, seed=seed)``.

    The record itself, but in a layout that loses what some cells need to be read with
    certainty (``crawler``: runs of digits that split in several ways) those come back unread,
    and the cells read by a rule come back inferred with their rule.  Raises
    :class:`Unrenderable` where the layout would make the parser misread a cell.
    """
    if layout not in _converted.EXPECTED_FUNCS:
        return Report.from_json(report.to_json())
    sty = _make_style(seed, layout)
    doc = _doc(report, sty)
    return _converted.EXPECTED_FUNCS[layout](report, sty, doc)


def render(report: Report, layout: str, *, seed: int = 0, encoding: str = "utf-8") -> bytes:
    """The report as the bytes of a file in ``layout`` and ``encoding`` (see :data:`LAYOUTS`,
    :data:`ENCODINGS`); ``seed`` picks the variations deterministically."""
    return render_text(report, layout, seed=seed, encoding=encoding).encode(encoding)


def file_name(stem: str, layout: str) -> str:
    """A file name for a rendered report: ``stem`` plus the layout's extension."""
    return stem + EXTENSIONS[layout]
