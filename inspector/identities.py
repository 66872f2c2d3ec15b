"""What an issue's ``cells`` text says: the cells on each side of a rule, and its residual as a person reads it.

``marts.quality_issues.cells`` spells out the identity an issue broke, one cell key
(``table.row.col``) per term, for example::

    reviews.reconsideration.total = reviews.reconsideration.upheld + reviews.reconsideration.corrected
        + reviews.reconsideration.other + reviews.reconsideration.pending
    applications.carried_over.total = applications.carried_forward.total of the 2022 report 3f0c…
    applications.granted.natural_person raw='-3' at line 40 col 2          (a rule on one cell)

:func:`parse` splits it at `` = `` into a left and a right side of :class:`Term` s; a term
``of the <year> report <id>`` is a cell of another report (identity 5, the stock rule) and
is not marked in this one.  The warehouse stores ``residual = lhs - rhs`` (``actual -
expected``); :func:`reading` says it the way a person reads it ("printed 0, its parts add
up to 11: off by 11").
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: One cell key, optionally of another report.
CELL = re.compile(
    r"\b(applications|reviews|proactive)\.([a-z0-9_]+)\.([a-z0-9_]+)"
    r"(?: of the (\d{4}) report ([0-9a-f]{6,64}))?"
)


@dataclass(frozen=True)
class Term:
    """One cell of a side: its key, its sign in the sum, and the other report it belongs to, if any."""

    key: str
    sign: int = 1
    other_year: int | None = None
    other_report: str | None = None

    @property
    def table(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def own(self) -> bool:
        """A cell of the report the issue is about (not of last year's report)."""
        return self.other_report is None


@dataclass(frozen=True)
class Formula:
    lhs: tuple[Term, ...]
    rhs: tuple[Term, ...]

    def own_keys(self, side: str) -> list[str]:
        return [t.key for t in (self.lhs if side == "lhs" else self.rhs) if t.own]

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.lhs + self.rhs


def _side(text: str) -> tuple[Term, ...]:
    terms, end = [], 0
    for m in CELL.finditer(text):
        between = text[end:m.start()]
        sign = -1 if re.search(r"(^|\s)-\s*$", between) else 1
        year = int(m.group(4)) if m.group(4) else None
        terms.append(Term(f"{m.group(1)}.{m.group(2)}.{m.group(3)}", sign, year, m.group(5)))
        end = m.end()
    return tuple(terms)


def parse(cells: str | None) -> Formula:
    """The cells of each side of ``cells`` (either side may be empty: a rule on one cell has only a left)."""
    text = cells or ""
    left, _, right = text.partition(" = ")
    return Formula(_side(left), _side(right))


def _number(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


@dataclass(frozen=True)
class Reading:
    """An issue as a sentence in each language, and the size of the break as a positive number."""

    zh: str
    en: str
    difference: float | None  # |lhs - rhs| for an identity; None where a difference means nothing


def difference(residual: float | None) -> float | None:
    """The residual as a person reads it: how far apart the two sides are (always >= 0)."""
    if residual is None or (isinstance(residual, float) and math.isnan(residual)):
        return None
    return abs(float(residual))


def reading(rule: str, formula: Formula, expected: float | None, actual: float | None,
            residual: float | None, describe=lambda key: key) -> Reading:
    """Say what broke: the two sides with their values and how far apart they are.

    ``expected`` is the right-hand side, ``actual`` the left (the gate's convention);
    ``describe(key)`` names a cell (e.g. its printed label).
    """
    diff = difference(residual)
    if rule in ("value_non_negative", "value_integer", "key_known"):
        what = {"value_non_negative": ("为负数", "is negative"),
                "value_integer": ("不是整数", "is not a whole number"),
                "key_known": ("不在任何国家模板中", "is on no national form")}[rule]
        name = describe(formula.lhs[0].key) if formula.lhs else ""
        return Reading(f"{name}：{_number(actual)} {what[0]}", f"{name}: {_number(actual)} {what[1]}", None)
    if rule == "keys_present":
        missing = None if actual is None or expected is None else expected - actual
        return Reading(f"读到 {_number(actual)} 个单元格，模板要求 {_number(expected)} 个，缺 {_number(missing)} 个",
                       f"{_number(actual)} cells read of the {_number(expected)} the form requires: "
                       f"{_number(missing)} missing", missing)
    if rule == "template_year":
        return Reading(f"使用 {_number(actual)} 年模板，该年度应使用 {_number(expected)} 年模板",
                       f"uses the {_number(actual)} form where the year calls for the {_number(expected)} form", None)

    def name(t: Term) -> tuple[str, str]:
        if t.own:
            return describe(t.key), describe(t.key)
        return f"{t.other_year} 年报告的{describe(t.key)}", f"{describe(t.key)} of the {t.other_year} report"

    lhs, rhs = formula.lhs, formula.rhs
    if diff is None:
        return Reading(f"左边 {_number(actual)}，右边 {_number(expected)}",
                       f"left side {_number(actual)}, right side {_number(expected)}", None)
    off_zh, off_en = f"相差 {_number(diff)}", f"off by {_number(diff)}"
    if len(lhs) == 1 and len(rhs) == 1:
        (lz, le), (rz, re_) = name(lhs[0]), name(rhs[0])
        return Reading(f"{lz} 为 {_number(actual)}，而{rz} 为 {_number(expected)}：{off_zh}",
                       f"{le} is {_number(actual)}, but {re_} is {_number(expected)}: {off_en}", diff)
    if len(lhs) == 1:
        lz, le = name(lhs[0])
        return Reading(f"印出的{lz} 为 {_number(actual)}，而右边 {len(rhs)} 项之和为 {_number(expected)}：{off_zh}",
                       f"{le} is printed as {_number(actual)}, but the {len(rhs)} cells on the right add up to "
                       f"{_number(expected)}: {off_en}", diff)
    return Reading(f"左边 {len(lhs)} 项之和为 {_number(actual)}，右边 {len(rhs)} 项之和为 {_number(expected)}：{off_zh}",
                   f"the {len(lhs)} cells on the left add up to {_number(actual)}, the {len(rhs)} on the right to "
                   f"{_number(expected)}: {off_en}", diff)
