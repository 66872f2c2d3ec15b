"""Runs of digits printed with no separator between a row's cells, and the ways they split.

Crawlers that flatten a web page's table to its inner text glue a row's cells together:
``（二）部分公开1200000012`` is the row 12, 0, 0, 0, 0, 0, 12 -- or 1, 2, 0, 0, 0, 0, 0, 12 ...
A run is split into a row's cells only where that is certain:

- a cell is a blank marker (``/``, ``-``, ``—`` …) or a number written as numbers are written:
  no leading zero but ``0`` itself, a sign only in a signed field (``本年增/减``), a decimal
  point only in an amount; whitespace inside a run always separates cells;
- a split that cuts no run of digits (every cell was separated) is a plain reading;
- a row whose run has exactly one split into its cells whatever the numbers (``0000000``,
  ``000``) is read that way (:attr:`~ingestion.record.Rule.ONLY_SPLIT`);
- a row that prints its total (table 3: six applicant cells and the total; table 4: each
  block's four results and its total) keeps only the splits whose total is the sum of its
  parts (blank read as 0); exactly one left is read that way
  (:attr:`~ingestion.record.Rule.ROW_TOTAL`);
- where several are left, the column identities of table 3 may decide
  (:func:`resolve_by_columns`); where several still fit, the row is unread.

Nothing here knows the form beyond what it is given: each field's kind and the rows' groups.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import Mapping, Sequence

from .text import BLANK_MARKS, nfkc_keep_nbsp

#: Field kinds: a count (a whole number), a signed count (本年增/减) and an amount (decimals allowed).
COUNT, SIGNED, AMOUNT = "count", "signed", "amount"

_DIGITS = frozenset("0123456789")
_SIGNS = frozenset("+-")
#: Signs a doubtful reading also allows: a dash typed for a minus sign ("–13", "—13")
_DOUBTFUL_SIGNS = frozenset("+-–—")

#: A row with more splits than this is unread without further ado (and the column identities
#: are not tried on it): so many readings say nothing certain.
MAX_SPLITS = 64
#: The column identities are tried on a table only when the ambiguous rows' splits make at most
#: this many combinations (the product of their counts).
MAX_COMBINATIONS = 4096


@dataclass(frozen=True, slots=True)
class Split:
    """One way a run splits into a row's cells: each cell's raw text and where it starts in the run."""

    cells: tuple[str, ...]
    starts: tuple[int, ...]
    #: whether some cell boundary falls inside a run of digits (the split is a reading, not a given)
    cut: bool


def normalise_run(run: str) -> str:
    """The run as the splitter reads it: NFKC (full-width digits to ASCII), spaces one space; an
    NBSP (``&nbsp;``, an empty cell) stays one: it is a blank marker."""
    return _SPACES.sub(" ", nfkc_keep_nbsp(run)).strip(" ")


_SPACES = re.compile(r"[ \t\u3000]+")


def value_of(raw: str) -> Decimal | None:
    """The number of a cell of a split; None for a blank marker (or a cell printed as nothing)."""
    if not raw or raw in BLANK_MARKS:
        return None
    return Decimal(raw)


def _number_ends(s: str, i: int, kind: str, doubtful: bool = False) -> list[int]:
    """The ends of every number of ``kind`` that starts at ``s[i]`` (``doubtful``: a dash may be a sign)."""
    n = len(s)
    j = i
    if kind == SIGNED and j < n and s[j] in (_DOUBTFUL_SIGNS if doubtful else _SIGNS):
        j += 1
    if j >= n or s[j] not in _DIGITS:
        return []
    k = j + 1
    if s[j] != "0":
        while k < n and s[k] in _DIGITS and k - j < MAX_DIGITS:
            k += 1
    if s[j] == "0" and j > i:
        return []  # "+0", "-0": no such cell
    # "0" and nothing longer (no leading zeros), or any prefix of the digits
    ends = [j + 1] if s[j] == "0" else list(range(j + 1, k + 1))
    if kind == AMOUNT and k < n - 1 and s[k] == "." and s[k + 1] in _DIGITS:
        # a decimal part, only after the whole integer part ("12.5"; never "1" then "2.5")
        m = k + 1
        while m < n and s[m] in _DIGITS:
            m += 1
        ends += range(k + 2, m + 1)
    return ends


def _cell_ends(s: str, i: int, kind: str, doubtful: bool = False) -> list[int]:
    """The ends of every cell of ``kind`` that starts at ``s[i]``: a blank marker or a number
    (``doubtful``: also a cell printed as nothing, and a number signed with a dash)."""
    ends = [i + len(mark) for mark in BLANK_MARKS if s.startswith(mark, i)]
    if doubtful:
        return [i, *ends, *_number_ends(s, i, kind, True)]
    return ends + _number_ends(s, i, kind)


def _is_cut(s: str, end: int) -> bool:
    """Whether a cell ending at ``end`` cuts a run of digits (the next cell goes on in digits)."""
    return 0 < end < len(s) and s[end - 1] in _DIGITS and s[end] in _DIGITS


#: Runs longer than this are not split (no row of the form prints so many characters).
MAX_RUN = 240


#: (cells, starts, cut): a split of part of a run
_Partial = tuple[tuple[str, ...], tuple[int, ...], bool]
#: A count of more digits than this is no count of the form: such a cell is never read.
MAX_DIGITS = 12
#: How many steps one run's search may take (a run that needs more is unread, see TooManyReadings).
MAX_STEPS = 200_000


class TooManyReadings(Exception):
    """A run whose splits would take more than :data:`MAX_STEPS` steps to list: it is left unread."""


def splits(run: str, kinds: Sequence[str], groups: Sequence[int] = (), limit: int = MAX_SPLITS,
           doubtful: bool = False) -> list[Split]:
    """The splits of ``run`` into ``len(kinds)`` cells, at most ``limit + 1`` of them.

    ``doubtful``: also every reading a source may mean that the run cannot rule out: a blank
    cell printed as nothing (a cell ``""``), a dash typed for a signed cell's minus sign
    (``"–13"``, ``"—13"``).

    ``groups`` are the sizes of consecutive blocks whose last cell is the block's printed
    total (table 3: ``(7,)``; table 4: ``(5, 5, 5)``; counts only): only splits where each
    total is the sum of its block's other cells (blank read as 0) count.  Without groups every
    split counts.

    Dynamic programming over positions: each part of the run is split once, and no list holds
    more than ``limit + 1`` splits (more say no more than that many).  Raises
    :class:`TooManyReadings` past :data:`MAX_STEPS` steps.
    """
    s = normalise_run(run)
    n = len(s)
    if n > MAX_RUN or not kinds:
        return []
    if groups:
        assert sum(groups) == len(kinds) and all(k == COUNT for k in kinds), (groups, kinds)
        return _block_splits(s, tuple(groups), limit + 1, doubtful)
    return _free_splits(s, tuple(kinds), limit + 1, doubtful)


def _join(s: str, raw: str, i: int, end: int, rest: list[_Partial]) -> list[_Partial]:
    cut = _is_cut(s, end)
    return [((raw,) + cells, (i,) + starts, cut or c) for cells, starts, c in rest]


def _free_splits(s: str, kinds: tuple[str, ...], cap: int, doubtful: bool = False) -> list[Split]:
    """Every split of ``s`` into cells of ``kinds`` (at most ``cap``)."""
    n, width = len(s), len(kinds)
    memo: dict[tuple[int, int], list[_Partial]] = {}
    steps = [0]

    def free(i: int, f: int) -> list[_Partial]:
        if i < n and s[i] == " ":
            i += 1
        key = (i, f)
        hit = memo.get(key)
        if hit is not None:
            return hit
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise TooManyReadings(s)
        out: list[_Partial] = []
        if f == width:
            out = [((), (), False)] if i == n else []
        elif doubtful or n - i >= width - f:  # a character per cell at least (unless cells may be empty)
            for end in _cell_ends(s, i, kinds[f], doubtful):
                out += _join(s, s[i:end], i, end, free(end, f + 1))
                if len(out) >= cap:
                    del out[cap:]
                    break
        memo[key] = out
        return out

    return [Split(c, st, cut) for c, st, cut in free(0, 0)]


def _block_splits(s: str, groups: tuple[int, ...], cap: int, doubtful: bool = False) -> list[Split]:
    """The splits of ``s`` into blocks of counts whose last cell is the sum of the others (at most ``cap``)."""
    n = len(s)
    width = sum(groups)
    firsts = [sum(groups[:b]) for b in range(len(groups))]
    # where the run of digits that covers each position ends
    digits_end = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        digits_end[i] = digits_end[i + 1] if s[i] in _DIGITS and i + 1 < n and s[i + 1] in _DIGITS else (
            i + 1 if s[i] in _DIGITS else i)
    steps = [0]

    def cells_at(i: int, stop: int, most: int | None) -> list[tuple[int, int]]:
        """(end, value) of every cell at ``i`` ending by ``stop`` whose value is at most ``most``
        (None: any): blank markers (0), then numbers, shortest first."""
        out = [(i + len(mark), 0) for mark in BLANK_MARKS if s.startswith(mark, i) and i + len(mark) <= stop]
        if doubtful and i <= stop:
            out.insert(0, (i, 0))  # a blank cell printed as nothing
        if i < n and s[i] in _DIGITS:
            if s[i] == "0":
                if i + 1 <= stop:
                    out.append((i + 1, 0))
            else:
                last = min(digits_end[i], stop, i + MAX_DIGITS)
                for end in range(i + 1, last + 1):
                    value = int(s[i:end])
                    if most is not None and value > most:
                        break
                    out.append((end, value))
        return out

    memo_parts: dict[tuple[int, int, int, int], list[_Partial]] = {}
    memo_block: dict[tuple[int, int], list[_Partial]] = {}

    def parts(i: int, t: int, left: int, rest: int) -> list[_Partial]:
        """``left`` cells from ``i`` up to ``t`` (where the block's total starts) summing to ``rest``."""
        if i < n and s[i] == " ":
            i += 1
        if left == 1:  # the last part is all that is left before the total, and must be the rest
            end = t - 1 if t - 1 > i and s[t - 1] == " " else t
            for e, value in cells_at(i, end, rest):
                if e == end and value == rest:
                    return [((s[i:end],), (i,), _is_cut(s, end))]
            return []
        if (t - i < left and not doubtful) or not _may_sum(s, i, t, left, rest, doubtful):
            return []
        key = (i, t, left, rest)
        hit = memo_parts.get(key)
        if hit is not None:
            return hit
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise TooManyReadings(s)
        out: list[_Partial] = []
        for end, value in cells_at(i, t if doubtful else t - left + 1, rest):
            out += _join(s, s[i:end], i, end, parts(end, t, left - 1, rest - value))
            if len(out) >= cap:
                del out[cap:]
                break
        memo_parts[key] = out
        return out

    def block(b: int, i: int) -> list[_Partial]:
        """Blocks b.. from ``i`` to the end of the run: each block's total first (it bounds every
        part), then the parts before it, which must sum to it exactly."""
        if i < n and s[i] == " ":
            i += 1
        if b == len(groups):
            return [((), (), False)] if i == n else []
        key = (b, i)
        hit = memo_block.get(key)
        if hit is not None:
            return hit
        out: list[_Partial] = []
        n_parts = groups[b] - 1
        later = width - firsts[b] - groups[b]  # cells after this block: a character each at least
        if doubtful:  # (no character at all where cells may be printed as nothing)
            first_t, stop = i, n
        else:
            first_t, stop = i + n_parts, n - later
        for t in range(first_t, stop + 1 if doubtful else stop):
            if t < n and s[t] == " ":
                continue
            m = t - i
            for t_end, total in cells_at(t, stop, None):
                if not later and t_end != n:
                    continue
                digits = t_end - t
                if m > n_parts * (max(digits, 2) + 1):
                    continue  # no part is larger than the total, so none is longer (nor a blank marker)
                if total >= 10 and digits > (m + 1 if doubtful else m - n_parts + 2):
                    break  # the parts' sum has at most one digit more than their longest
                front = parts(i, t, n_parts, total)
                if not front:
                    continue
                back = _join(s, s[t:t_end], t, t_end, block(b + 1, t_end))
                for cells, starts, cut in front:
                    out += [(cells + c2, starts + s2, cut or k2) for c2, s2, k2 in back]
                if len(out) >= cap:
                    del out[cap:]
                    memo_block[key] = out
                    return out
        memo_block[key] = out
        return out

    return [Split(c, st, cut) for c, st, cut in block(0, 0)]


def _may_sum(s: str, i: int, t: int, parts: int, rest: int, doubtful: bool = False) -> bool:
    """Whether ``s[i:t]`` may split into ``parts`` numbers summing to ``rest``: bounds by length
    (digits only; with blanks or spaces in the way, always; ``doubtful``: parts may be empty)."""
    m = t - i
    if m < parts and not doubtful:
        return False
    for k in range(i, t):
        if s[k] not in _DIGITS:
            return True
    # the largest part is one of m - parts + 1 digits at most (m, where parts may be empty): the
    # sum is below parts * 10 ** that
    longest_most = m if doubtful else m - parts + 1
    if longest_most <= 18 and rest >= 10 ** longest_most * parts:
        return False
    # some part has ceil(m / parts) digits at least, so (no leading zeros) is that large
    longest = -(-m // parts)
    return longest < 2 or rest >= 10 ** (longest - 1)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a run reads as for one row: the split taken (None: unread), and the rule that chose it.

    ``rule`` is "" for a plain reading (every cell separated in the source), else a
    :class:`~ingestion.record.Rule` value.  ``candidates`` are the splits left when the row
    alone cannot decide (for :func:`resolve_by_columns`); empty when there were none or too many.
    """

    split: Split | None
    rule: str
    candidates: tuple[Split, ...] = ()
    #: why a run is unread: "none" (no split fits), "several" (more than one), "many" (too many to
    #: list), "empty" (some reading has a blank cell printed as nothing), "sign" (a dash glued to a
    #: signed cell's digits: a blank marker or that cell's minus sign)
    why: str = ""


def read_run(run: str, kinds: Sequence[str], groups: Sequence[int] = ()) -> Reading:
    """How ``run`` reads as a row of ``kinds`` (see the module's rules).

    Every reading the run cannot rule out counts (:func:`splits` ``doubtful``): a blank cell
    printed as nothing, a dash typed for a minus sign.  A split is taken only when it is the one
    reading left and it has no such cell: ``512`` (5, 1, 2 or 5, nothing, 12) and ``-13`` (a blank
    and 13, or nothing and -13) are unread; ``000`` and ``0000000`` are read (no cell of them can
    be missing: ``00`` is no number), and so is a row whose total rules every other reading out.
    """
    from .record import Rule

    try:
        free = splits(run, kinds, (), limit=1, doubtful=True)
        if not free:
            return Reading(None, "", why="none")
        if not groups:
            if len(free) > 1:
                return Reading(None, "", why=_several(free))
            if not _certain(free[0]):
                return Reading(None, "", why="sign" if "" not in free[0].cells else "empty")
            return Reading(free[0], Rule.ONLY_SPLIT if free[0].cut else "")
        fitting = splits(run, kinds, groups, doubtful=True)
    except TooManyReadings:
        return Reading(None, "", why="many")
    if len(fitting) == 1:
        # the row's total had to fit; it chose the split only where the run had others
        split = fitting[0]
        if "" in split.cells:
            return Reading(None, "", why="empty")
        return Reading(split, "" if not split.cut else Rule.ONLY_SPLIT if len(free) == 1 else Rule.ROW_TOTAL)
    if not fitting:
        return Reading(None, "", why="none")
    if len(fitting) <= MAX_SPLITS:
        return Reading(None, "", tuple(fitting), why=_several(fitting))
    return Reading(None, "", why="many")


def _several(readings: Sequence[Split]) -> str:
    """Why a run with several readings is unread: "empty" where one of them has a cell printed as nothing."""
    return "empty" if any("" in sp.cells for sp in readings) else "several"


def _certain(split: Split) -> bool:
    """Whether a run's one reading may be taken: no cell of it printed as nothing, and no number
    signed with a dash ("—13": a minus sign, or a blank marker glued to 13 by a source that
    printed the row's other cell as nothing)."""
    return all(c and not (c[0] in "–—" and c[1:2] in _DIGITS) for c in split.cells)


def certain_cells(cells: Sequence[str]) -> bool:
    """Whether the cells every reading of a run agrees on may be read (none printed as nothing)."""
    return all(cells)


def resolve_by_columns(rows: Mapping[str, Sequence[Sequence[Decimal | None]] | None], outcomes: Sequence[str],
                       ambiguous: Mapping[str, Sequence[Split]]) -> dict[str, Split]:
    """The splits of ``ambiguous`` rows of table 3 that the column identities decide.

    ``rows`` holds every row of table 3: its values (a list of 7 values, blank None) when read,
    None when unread.  For each combination of the ambiguous rows' candidate splits, the
    identities that can be evaluated (every row they involve read or ambiguous) must hold in
    every column, blank read as 0:

    1. new_received + carried_over = total + carried_forward
    2. total = the sum of the outcome rows

    A row is decided when every combination that holds gives it the same split.
    """
    keys = list(ambiguous)
    if not keys:
        return {}
    count = 1
    for k in keys:
        count *= len(ambiguous[k])
    if count > MAX_COMBINATIONS:
        return {}

    def known(key: str) -> bool:
        return key in ambiguous or rows.get(key) is not None

    identity_1 = all(known(k) for k in ("new_received", "carried_over", "total", "carried_forward"))
    identity_2 = known("total") and all(known(k) for k in outcomes)
    if not identity_1 and not identity_2:
        return {}
    fixed = {k: [v or 0 for v in vals] for k, vals in rows.items() if vals is not None and k not in ambiguous}
    values = {k: [[value_of(c) or 0 for c in sp.cells] for sp in ambiguous[k]] for k in keys}
    chosen: dict[str, set[int]] = {k: set() for k in keys}
    for combo in product(*(range(len(ambiguous[k])) for k in keys)):
        table = dict(fixed)
        for k, j in zip(keys, combo):
            table[k] = values[k][j]
        if identity_1 and any(table["new_received"][c] + table["carried_over"][c]
                              != table["total"][c] + table["carried_forward"][c] for c in range(7)):
            continue
        if identity_2 and any(table["total"][c] != sum(table[k][c] for k in outcomes) for c in range(7)):
            continue
        for k, j in zip(keys, combo):
            chosen[k].add(j)
    decided = {k: ambiguous[k][next(iter(js))] for k, js in chosen.items() if len(js) == 1}
    # a split with a cell printed as nothing is never read, however the identities decide
    return {k: split for k, split in decided.items() if certain_cells(split.cells)}
