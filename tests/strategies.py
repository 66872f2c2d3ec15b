"""Hypothesis strategies for canonical report records (docs/REPORT_JSON.md).

``records()`` draws complete records of either template: the 2019 form for years
up to 2020, the 2021 form from 2021 on (which may still print row (六) as one
row).  Cells mix blanks and zeros in per-record proportions (all-zero reports,
mostly-blank reports, dense ones), counts are mostly small with long tails, and
amounts are decimals exactly representable in 万元 and in 元.  Records need not
satisfy the accounting identities: the parser must not care.
"""
from __future__ import annotations

from hypothesis import strategies as st

from ingestion.record import Cell, Report, read_cell
from ingestion.templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
    application_rows,
    template_for_year,
)

# Place-name characters: no digits, no 年/报告/关于, nothing that spells a row label.
_NAME_CHARS = "安源江衢洪泽淮攀枝花抚州东西南北新昌平阳宁丰乐清和兴顺德华城山河湖海云金石宝鼎嘉定松涛桐庐"
_BODIES = (
    "人民政府", "人民政府办公室", "商务局", "教育局", "财政局", "自然资源和规划局", "卫生健康委员会",
    "市场监督管理局", "工业和信息化局", "住房和城乡建设局", "生态环境局", "交通运输局", "农业农村局",
    "人力资源和社会保障局", "民政局", "司法局", "应急管理局", "统计局", "医疗保障局", "发展和改革委员会",
)

_name = st.text(alphabet=_NAME_CHARS, min_size=2, max_size=3)


@st.composite
def agencies(draw: st.DrawFn) -> str:
    """A reporting body: 某某市某某区人民政府, 某某县教育局, 某某市某某区商务局, …"""
    body = draw(st.sampled_from(_BODIES))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return f"{draw(_name)}市{draw(_name)}区{body}"
    if shape == 1:
        return f"{draw(_name)}市{body}"
    if shape == 2:
        return f"{draw(_name)}县{body}"
    return f"{draw(_name)}区{body}"


#: Counts: mostly small, with long tails.
counts = st.one_of(
    st.just(0), st.integers(0, 9), st.integers(0, 99), st.integers(0, 9_999), st.integers(0, 50_000_000),
)


def _exact(c: int, scale: int) -> int | float:
    v = c / scale
    return int(v) if v.is_integer() else v


#: Amounts in 万元: whole, two decimals or four decimals (exact in 元 as well).
amounts = st.one_of(
    st.just(0),
    st.integers(0, 1_000_000),
    st.integers(0, 100_000_000).map(lambda c: _exact(c, 100)),
    st.integers(0, 100_000_000).map(lambda c: _exact(c, 10_000)),
)
changes = st.one_of(st.just(0), st.integers(-50, 50), st.integers(-5_000, 5_000))


@st.composite
def _cells(draw: st.DrawFn, n: int, value: st.SearchStrategy[int | float], blank_rate: int, zero_rate: int
           ) -> list[int | float | None]:
    out: list[int | float | None] = []
    for _ in range(n):
        r = draw(st.integers(0, 9))
        if r < blank_rate:
            out.append(None)
        elif r < blank_rate + zero_rate:
            out.append(0)
        else:
            out.append(draw(value))
    return out


def _cell(v: int | float | None) -> Cell:
    return read_cell(v)


@st.composite
def records(draw: st.DrawFn, template: str | None = None) -> Report:
    """A complete canonical record; ``template`` pins "2019" or "2021"."""
    if template == "2019":
        year = draw(st.integers(2019, 2020))
    elif template == "2021":
        year = draw(st.integers(2021, 2025))
    else:
        year = draw(st.integers(2019, 2025))
    form = template_for_year(year)
    variant = "single" if form == "2019" or draw(st.integers(0, 4)) == 0 else "split"
    # per-record mix: 0..10 tenths of blank cells, then of zeros among the rest
    blank_rate = draw(st.sampled_from((0, 0, 0, 1, 3, 7, 10)))
    zero_rate = draw(st.sampled_from((0, 2, 5, 9, 10)))
    zero_rate = min(zero_rate, 10 - blank_rate)
    applications = {
        row.key: [_cell(v) for v in draw(_cells(len(APPLICANT_COLUMNS), counts, blank_rate, zero_rate))]
        for row in application_rows(variant)
    }
    reviews = {
        key: [_cell(v) for v in draw(_cells(len(REVIEW_COLUMNS), counts, blank_rate, zero_rate))]
        for key in REVIEW_ROWS
    }
    proactive: dict[str, dict[str, Cell]] = {}
    for prow in PROACTIVE_ROWS[form]:
        fields = {}
        for f in prow.fields:
            strategy = amounts if f in AMOUNT_FIELDS else changes if f in SIGNED_FIELDS else counts
            fields[f] = _cell(draw(_cells(1, strategy, blank_rate, zero_rate))[0])
        proactive[prow.key] = fields
    return Report(
        source="synth.txt",
        agency=draw(agencies()),
        year=year,
        template=form,
        applications=applications,
        reviews=reviews,
        proactive=proactive,
    )


def with_row_totals(rec: Report, cap: int = 100_000) -> Report:
    """``rec`` with every row of tables 3 and 4 adding up (its total the sum of its cells, blank as 0)
    and counts below ``cap``: what a report printed as crawler text must be for its runs of
    digits to be split (docs: a row's split must fit its printed total), and the size of real counts."""

    def fix(row: list[Cell]) -> list[Cell]:
        values = [None if c.value is None else int(c.value) % cap for c in row]
        total = sum(v or 0 for v in values[:-1])
        values[-1] = None if values[-1] is None and total == 0 else total
        return [read_cell(v) for v in values]

    rec.applications = {k: fix(row) for k, row in rec.applications.items()}
    rec.reviews = {k: fix(row) for k, row in rec.reviews.items()}
    return rec
