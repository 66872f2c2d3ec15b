"""Placing cell tokens into the form's rows: one mechanism for tables 2, 3 and 4.

The form prints its rows in a fixed order (templates.py).  The parser relies on
that order, and on labels only where they are certain:

1. *Runs*: consecutive cell tokens not separated by label text.  A table row
   (a line with several pieces) is a run of its own; one-cell-per-line layouts
   merge consecutive cell lines into one run.
2. *Anchors*: a run printed on the same line as a recognised row label belongs
   to that row.  Anchors must follow the form's order.
3. *Gaps*: between two anchors, the unanchored runs fill the rows the anchors
   leave free, in order — when their numbers agree (one run per row, or runs
   that split exactly into the rows' widths).  This is what places values that
   PDF extraction moved to the line before or after their label.
4. Otherwise a gap is filled from the label printed right before (or, for every
   run of the gap alike, right after) each run.  What still cannot be placed is
   left blank and reported as a warning: a number is never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from .layouts import Line
from .record import Cell
from .text import Token, normalize_label


@dataclass(frozen=True)
class Slot:
    """A row of a table to fill: key, cell count and field keys."""

    key: str
    fields: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return len(self.fields)


class LabelMatcher:
    """Finds the row a label names: one precompiled alternation over every alias.

    The rightmost alias on a line wins, because a row's own label follows its
    group's label (``(三)不予公开 | 1.属于国家秘密``).
    """

    def __init__(self, slots: Sequence[Slot]) -> None:
        owner: dict[str, int] = {}
        for i, slot in enumerate(slots):
            for alias in slot.aliases:
                owner.setdefault(normalize_label(alias), i)
        self._owner = owner
        alternatives = sorted(owner, key=len, reverse=True)
        self._regex = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def match(self, norm: str) -> int | None:
        """Index of the slot whose alias occurs rightmost in ``norm``, or None."""
        if self._regex is None or not norm:
            return None
        best: int | None = None
        for m in self._regex.finditer(norm):
            best = self._owner[m.group(0)]
        return best


@dataclass
class _Run:
    tokens: list[Token]
    anchor: int | None = None
    prev_label: int | None = None
    next_label: int | None = None
    stream: bool = False


@dataclass
class Placement:
    """The outcome of placing one table: tokens per slot index, and warnings."""

    rows: dict[int, list[Token]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    labels_seen: set[int] = field(default_factory=set)


def _runs(lines: Sequence[Line], matcher: LabelMatcher) -> tuple[list[_Run], set[int]]:
    """The runs of a section, each with its anchor and the labels printed next to it."""
    events: list[_Run | int | None] = []  # a run, a recognised label (slot index), or other text (None)
    seen: set[int] = set()
    stream_run: _Run | None = None
    for line in lines:
        label = matcher.match(line.norm) if line.texts else None
        if label is not None:
            seen.add(label)
        tokens = line.tokens
        if tokens and line.row and line.texts and label is None and all(t.number is None for t in tokens):
            tokens = []  # blank padding of a header row ("第二十条第（一）项 | |||")
        if tokens and not seen and all(t.number is None for t in tokens):
            tokens = []  # blanks ahead of the table's first row are layout, not cells
        if not tokens:
            if line.texts:
                events.append(label)
                stream_run = None
            continue
        if line.row or line.texts:
            previous = events[-1] if events else None
            if (not line.texts and isinstance(previous, _Run) and previous.anchor is not None
                    and all(t.number is None and not t.raw for t in previous.tokens)):
                # a label row printed with empty cells, its values on the unlabelled row below
                # (PDF-to-markdown splits a wrapped row this way).  Only literally empty
                # cells: a row of "/" or NBSP blanks is a row of blank values.
                previous.tokens = list(tokens)
            else:
                events.append(_Run(list(tokens), anchor=label if line.texts else None))
            stream_run = None
        elif stream_run is not None:
            stream_run.tokens.extend(tokens)
        else:
            stream_run = _Run(list(tokens), stream=True)
            events.append(stream_run)
    runs: list[_Run] = []
    for i, event in enumerate(events):
        if not isinstance(event, _Run):
            continue
        runs.append(event)
        for step, attr in ((-1, "prev_label"), (1, "next_label")):
            j = i + step
            while 0 <= j < len(events) and events[j] is None:
                j += step  # unrecognised text: the rest of a broken label
            if 0 <= j < len(events) and isinstance(events[j], int):
                setattr(event, attr, events[j])
    return runs, seen


def _trim(tokens: list[Token], width: int) -> list[Token] | None:
    """The row's cells when ``tokens`` hold exactly ``width`` cells plus blank padding."""
    if len(tokens) == width:
        return tokens
    if len(tokens) < width:
        return None
    extra = tokens[width:]
    if all(t.number is None for t in extra):
        return tokens[:width]
    lead = tokens[: len(tokens) - width]
    if all(t.number is None for t in lead):
        return tokens[len(tokens) - width:]
    return None


def _fit_in_order(runs: list[_Run], free: list[int], slots: Sequence[Slot]) -> dict[int, list[Token]] | None:
    """Fill ``free`` slots with ``runs`` in order, splitting runs by the slots' widths; None if they disagree."""
    out: dict[int, list[Token]] = {}
    if len(runs) == len(free):
        for run, s in zip(runs, free):
            cells = _trim(run.tokens, slots[s].width)
            if cells is None:
                return None
            out[s] = cells
        return out
    k = 0
    for run in runs:
        tokens = run.tokens
        taken = 0
        while k < len(free) and len(tokens) - taken >= slots[free[k]].width:
            w = slots[free[k]].width
            out[free[k]] = tokens[taken: taken + w]
            taken += w
            k += 1
            if all(t.number is None for t in tokens[taken:]):
                break
        rest = tokens[taken:]
        if taken == 0 or any(t.number is not None for t in rest):
            return None
    return out if k == len(free) else None


def _fit_by_labels(runs: list[_Run], free: list[int]) -> dict[int, _Run] | None:
    """Place every run of a gap by the label printed right before it, or every run by the one right after."""
    allowed = set(free)
    for attr in ("prev_label", "next_label"):
        targets = [getattr(run, attr) for run in runs]
        if all(t in allowed for t in targets) and len(set(targets)) == len(targets):
            return dict(zip(targets, runs))
    return None


def place(lines: Sequence[Line], slots: Sequence[Slot], table: str) -> Placement:
    """Place the cell tokens of ``lines`` (one table's section) into ``slots``."""
    matcher = LabelMatcher(slots)
    runs, seen = _runs(lines, matcher)
    result = Placement(labels_seen=seen)

    # Anchors must follow the printed order; one out of order is treated as unanchored.
    last = -1
    for run in runs:
        if run.anchor is not None:
            if run.anchor > last:
                last = run.anchor
            else:
                result.warnings.append(
                    f"{table}: label of row {slots[run.anchor].key} at {run.tokens[0].position} is out of order; "
                    "placed by position instead"
                )
                run.anchor = None

    bounds = [(-1, -1)] + [(i, r.anchor) for i, r in enumerate(runs) if r.anchor is not None] + [
        (len(runs), len(slots))
    ]
    for (ri, si), (rj, sj) in zip(bounds, bounds[1:]):
        if 0 <= ri:
            anchored = runs[ri]
            cells = _trim(anchored.tokens, slots[si].width)
            if cells is None:
                result.warnings.append(
                    f"{table}.{slots[si].key}: {len(anchored.tokens)} cells at {anchored.tokens[0].position}, "
                    f"expected {slots[si].width}; row left blank"
                )
            else:
                result.rows[si] = cells
        gap_runs = runs[ri + 1: rj]
        free = list(range(si + 1, sj))
        if not gap_runs:
            continue
        fitted = _fit_in_order(gap_runs, free, slots) if free else None
        if fitted is not None:
            result.rows.update(fitted)
            continue
        by_label = _fit_by_labels(gap_runs, free)
        if by_label is not None:
            for s, run in by_label.items():
                cells = _trim(run.tokens, slots[s].width)
                if cells is None:
                    result.warnings.append(
                        f"{table}.{slots[s].key}: {len(run.tokens)} cells at {run.tokens[0].position}, "
                        f"expected {slots[s].width}; row left blank"
                    )
                else:
                    result.rows[s] = cells
            continue
        where = ", ".join(r.tokens[0].position for r in gap_runs)
        names = ", ".join(slots[s].key for s in free) or "none"
        result.warnings.append(
            f"{table}: {len(gap_runs)} value rows at {where} cannot be placed with certainty "
            f"among rows [{names}]; left blank"
        )
    return result


_COUNT_UNITS = frozenset({"", "件", "个", "条", "项", "次"})
_AMOUNT_FACTORS = {"": Decimal(1), "万元": Decimal(1), "元": Decimal("0.0001"), "亿元": Decimal(10000)}


def to_cell(token: Token, field_key: str, amount: bool, where: str) -> tuple[Cell, str | None]:
    """The cell value of ``token`` for a field: integers for counts, 万元 for amounts.

    Returns the cell and a warning when the token cannot be a value of that field
    (a decimal count, a money unit on a count): such a cell is left blank, never
    rounded or guessed.
    """
    if token.number is None:
        return Cell(None, token.raw, token.position), None
    number = token.number
    if amount:
        factor = _AMOUNT_FACTORS.get(token.unit)
        if factor is None:
            return Cell(None, token.raw, token.position), f"{where}: {token.raw!r} at {token.position} is not an amount"
        value = number * factor
        if value == value.to_integral_value():
            return Cell(int(value), token.raw, token.position), None
        return Cell(float(value), token.raw, token.position), None
    if token.unit not in _COUNT_UNITS:
        return Cell(None, token.raw, token.position), f"{where}: {token.raw!r} at {token.position} is not a count"
    if number != number.to_integral_value():
        return Cell(None, token.raw, token.position), f"{where}: {token.raw!r} at {token.position} is not a whole number"
    return Cell(int(number), token.raw, token.position), None
