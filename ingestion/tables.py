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
   left unread (:data:`~ingestion.record.Status.UNREAD`) and reported as a warning: a
   number is never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from .digits import AMOUNT, COUNT, SIGNED, Split, certain_cells, read_run, value_of
from .layouts import NOTE_VALUE, Line, Run
from .memo import Memo
from .record import Cell, Rule, Status
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
        self.has_aliases = bool(owner)
        alternatives = sorted(owner, key=len, reverse=True)
        self._regex = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        # the same labels recur in every report: remember what each normalised line matched
        self._seen: dict[str, int | None] = {}

    def match(self, norm: str) -> int | None:
        """Index of the slot whose alias occurs rightmost in ``norm``, or None."""
        if self._regex is None or not norm:
            return None
        try:
            return self._seen[norm]
        except KeyError:
            pass
        best: int | None = None
        for m in self._regex.finditer(norm):
            best = self._owner[m.group(0)]
        if len(self._seen) >= _MATCH_CACHE:
            self._seen.clear()  # bounded: prose lines are unique to their report
        self._seen[norm] = best
        return best

    def match_all(self, norm: str) -> set[int]:
        """Indices of every slot an alias of which occurs in ``norm`` (not remembered: rarely used)."""
        if self._regex is None or not norm:
            return set()
        return {self._owner[m.group(0)] for m in self._regex.finditer(norm)}


_MATCH_CACHE = 1 << 15
_INFO_HEAD = normalize_label("信息内容")  # the header of table 2's label column
_MATCHERS: dict[int, tuple[Sequence[Slot], LabelMatcher]] = {}


def matcher_for(slots: Sequence[Slot]) -> LabelMatcher:
    """The :class:`LabelMatcher` of ``slots``, built once per slot table (the parser's tables are constants)."""
    hit = _MATCHERS.get(id(slots))
    if hit is not None and hit[0] is slots:
        return hit[1]
    matcher = LabelMatcher(slots)
    if isinstance(slots, tuple):  # immutable: safe to remember (kept alive by the entry, so its id stays its own)
        if len(_MATCHERS) >= 64:
            _MATCHERS.clear()
        _MATCHERS[id(slots)] = (slots, matcher)
    return matcher


def _header_words() -> str:
    from .templates import APPLICANT_LABELS, PROACTIVE_FIELD_LABELS, REVIEW_RESULT_LABELS, REVIEW_ROW_LABELS

    words = [label for label, _ in APPLICANT_LABELS.values()] + [label for label, _ in REVIEW_RESULT_LABELS.values()]
    words += [part for label, _ in REVIEW_ROW_LABELS.values() for part in label.split("·")]
    words += list(PROACTIVE_FIELD_LABELS.values())
    words += ["申请人情况", "法人或其他组织", "信息内容", "采购总金额", "本年发件", "现行有效件",
              "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)"]
    return "\x00".join(normalize_label(w) for w in words)


#: The form's column headers, each a word of this text ("\x00" between them).
_HEADER_WORDS = _header_words()
_HEADER_WORDS_DELIMITED = f"\x00{_HEADER_WORDS}\x00"
# A converter's header for a table it found none for: 项目 | 数据1 | 数据2 … (or 列1, Col1)
_GENERIC_HEADER = re.compile(r"^(?:项目|数据\d*|列\d+|col\d+|column\d+)$", re.IGNORECASE)


def is_header_row(texts: Sequence[str]) -> bool:
    """Whether every text of a row is a column header of the form, or a piece of one (a header word a
    converter broke over lines: 商 / 业企业, 社会公 / 益组织), or a converter's generic header.  A row of
    one text must hold a whole header word: one piece alone may be the rest of a row's label."""
    whole = len(texts) == 1
    for text in texts:
        norm = normalize_label(text)
        if not norm or _GENERIC_HEADER.match(norm):
            continue
        if (f"\x00{norm}\x00" not in _HEADER_WORDS_DELIMITED) if whole else (norm not in _HEADER_WORDS):
            return False
    return True


# A row's label starts with its number: 1. （三） 一、 (1) (normalised: "1." "(三)" "一." "(1)")
_ROW_NUMBER = re.compile(r"^(?:\((?:\d{1,2}|[一二三四五六七八九十]{1,3})\)|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\.)")


# The label of a group of rows, which holds no values of its own: 三、本年度办理结果, （三）不予公开 …
_GROUP_LABEL = re.compile(r"^(?:三\.本年度办理结果|\([三四五六]\)(?:不予公开|无法提供|不予处理|其他处理)$)")


def _continues(norm: str) -> bool:
    """Whether a line's text goes on with the label of the line above: it starts with no row number."""
    return _ROW_NUMBER.match(norm) is None


def _continues_row(line: Line, label: int, events: list) -> bool:
    """Whether a markdown row of empty cells is the last line of a label cut over rows, the row it
    names already read from the lines above it."""
    k = len(events) - 1
    while k >= 0 and events[k] is None:  # across the lines of the label between (text only)
        k -= 1
    previous = events[k] if k >= 0 else None
    return (isinstance(previous, _Run) and previous.anchor == label
            and all(not t.raw for t in line.tokens) and _continues(line.norm))


@dataclass(slots=True)
class _Run:
    tokens: list[Token]
    anchor: int | None = None
    prev_label: int | None = None
    next_label: int | None = None
    stream: bool = False
    pad_right: bool = False
    first_cell_col: int = 0
    markdown: bool = False
    #: the index of a token put back in the run from a note line below it (Rule.MOVED_WITH_NOTE)
    moved: int | None = None
    #: the normalised text of a markdown row with values and no row label: it may begin a label
    #: cut over rows, the row it names below ("" for every other run)
    text: str = ""


@dataclass
class Placement:
    """The outcome of placing one table: tokens per slot index, and warnings.

    For crawler text whose cells are glued together (:func:`place_glued`) also the rule that
    read each row from a run of digits (``inferred``: slot -> :class:`~ingestion.record.Rule`
    value) and the rows a run leaves several readings of (``ambiguous``: slot -> its splits and the run).
    """

    rows: dict[int, list[Token]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    labels_seen: set[int] = field(default_factory=set)
    inferred: dict[int, str] = field(default_factory=dict)
    ambiguous: dict[int, tuple[tuple[Split, ...], Run]] = field(default_factory=dict)
    # (the two sets are shared empties until set: a placement per table, three per report)
    #: rows found whose cells could not be read (a run that splits in no way, or in several)
    unread: set[int] | frozenset[int] = frozenset()
    #: the tokens (by id) put back in their row from a note line (Rule.MOVED_WITH_NOTE)
    moved: set[int] | frozenset[int] = frozenset()


def _runs(lines: Sequence[Line], matcher: LabelMatcher, align: str = "right") -> tuple[list[_Run], set[int]]:
    """The runs of a section, each with its anchor and the labels printed next to it."""
    events: list[_Run | int | None] = []  # a run, a recognised label (slot index), or other text (None)
    seen: set[int] = set()
    stream_run: _Run | None = None
    # Blank cells ahead of a table's first row are layout, not cells: before the first
    # row label, or, for a table whose rows have no labels (table 4), before its last header text.
    if matcher.has_aliases:
        header_end = -1
    else:
        first_value = next((i for i, ln in enumerate(lines) if any(t.number is not None for t in ln.tokens)),
                           len(lines))
        header_end = max((i for i, ln in enumerate(lines[:first_value]) if ln.texts), default=-1)
    has_aliases = matcher.has_aliases
    match = matcher.match
    # (table 2) whether the markdown table being read has a label column: its header says 信息内容,
    # or a row names its label; a table of the values only (the labels stranded above it) has none
    label_column = True
    # A tall row PDF-to-markdown cuts into one row per line of its label, the values on one of
    # them, the others literally empty: the row that names the label, printed with empty cells,
    # while its values may still come on a line that goes on with the label (or none at all)
    waiting: _Run | None = None
    # ... or the row whose values came first, on a line that began the label, its end (the text
    # that names the row) still to come on the lines below
    opened: _Run | None = None
    before = ""
    left = align == "left"
    for i, line in enumerate(lines):
        texts = line.texts
        label = None
        if texts:
            label = match(line.norm)
            if label is not None:
                seen.add(label)
            if left and line.markdown:
                label_column = label is not None or _INFO_HEAD in line.norm or "第二十条" in line.norm
        tokens = line.tokens
        if tokens:
            if line.row and texts and (
                    label is None and all(t.number is None for t in tokens)
                    and (all(not t.raw for t in tokens) or line.markdown and is_header_row(texts))
                    or label is not None and line.markdown and _continues_row(line, label, events)):
                # empty padding cells of a header row ("第二十条第（一）项 | |||"), or its empty cells
                # filled with "-" by a PDF converter ("| - | 商 | 科 | 社会公 | 法律服 | 其他 | - |"),
                # or the empty cells of the last line of a label cut over rows
                tokens = []
            elif (has_aliases and not seen) or i < header_end:
                if line.row or texts:
                    if all(t.number is None for t in tokens):
                        tokens = []
                else:  # a stream line: the blank lines it may join are dropped one by one
                    tokens = [t for t in tokens if t.number is not None]
        if not tokens:
            if texts:
                events.append(label)
                stream_run = None
                if (waiting is not None or opened is not None) and (
                        label is not None and (waiting is None or label != waiting.anchor)
                        or not _continues(line.norm)):
                    waiting = opened = None
                elif opened is not None:
                    opened.text += line.norm  # the label goes on ("（六）其他" / "处理")
                # the text a tall row's first lines print with empty cells ("（六）其他" above "处理")
                if line.markdown and label is None and line.tokens and not is_header_row(texts):
                    before = before + line.norm if _continues(line.norm) else line.norm
                elif before:
                    before = ""
            continue

        if line.row or texts:
            previous = events[-1] if events else None
            if line.first_cell_col == NOTE_VALUE:
                # "3（含修订 2 件）" below "| 规章 | 5 |  | 130 |": the value of the row's one empty cell,
                # pulled out with the cell's note by a PDF converter; anywhere else, text
                empty = [k for k, t in enumerate(previous.tokens) if not t.raw] if isinstance(previous, _Run) else []
                if len(empty) == 1 and previous.markdown and previous.moved is None:
                    previous.tokens[empty[0]] = tokens[0]
                    previous.moved = empty[0]
                else:
                    events.append(None)
                stream_run = None
                waiting = opened = None
                continue
            if (waiting is not None and not all(t.number is None and not t.raw for t in tokens)
                    and (not line.texts or label in (None, waiting.anchor) and _continues(line.norm))):
                # a label row printed with empty cells, its values on the row below: unlabelled, or
                # going on with the label.  Only literally empty cells: a row of "/" or NBSP blanks is
                # a row of blank values.  An unlabelled value row's first cells stand under the label
                # row's label columns: skip them.
                skip = waiting.first_cell_col
                if not line.texts and skip and len(tokens) > skip and all(t.number is None for t in tokens[:skip]):
                    tokens = tokens[skip:]
                waiting.tokens = list(tokens)
                waiting = opened = None
            elif (opened is not None and label is not None and line.markdown
                  and all(t.number is None and not t.raw for t in tokens)
                  and (_continues(line.norm) or _GROUP_LABEL.match(opened.text))):
                # the values stood on a row above, whose text began the label this row goes on with
                # (or was the label of the row's group: "（三）不予公开" then "（1）属于国家秘密")
                opened.anchor = label
                waiting = opened = None
            else:
                if (left and line.markdown and not texts and not tokens[0].raw and len(tokens) > 1
                        and label_column):
                    tokens = tokens[1:]  # a markdown row without its label: its first column is the empty label cell
                run = _Run(list(tokens), label if texts else None, None, None, False, line.pad_right,
                           line.first_cell_col, line.markdown)
                events.append(run)
                waiting = opened = None
                if run.anchor is not None:
                    if not tokens[0].raw and all(not t.raw for t in tokens):
                        waiting = run  # (a row of values costs one look)
                elif texts and line.markdown and not all(t.number is None and not t.raw for t in tokens):
                    run.text = before + line.norm if _continues(line.norm) else line.norm
                    opened = run
            stream_run = None
            if before:
                before = ""
        elif stream_run is not None:
            stream_run.tokens.extend(tokens)
        else:
            # one cell per line: stray blank lines (NBSP) follow a table, they do not precede a row
            stream_run = _Run(list(tokens), stream=True, pad_right=True)
            events.append(stream_run)
            waiting = opened = None
    # The label printed next to each run: the nearest event before (after) it that is not
    # unrecognised text (the rest of a broken label), when that event is a label.
    runs: list[_Run] = []
    last: _Run | int | None = None
    for event in events:
        if event is None:
            continue
        if isinstance(event, _Run):
            runs.append(event)
            if last is not None and not isinstance(last, _Run):
                event.prev_label = last
        last = event
    last = None
    for event in reversed(events):
        if event is None:
            continue
        if isinstance(event, _Run) and last is not None and not isinstance(last, _Run):
            event.next_label = last
        last = event
    return runs, seen


def _trim(tokens: list[Token], width: int, align: str = "right") -> list[Token] | None:
    """The row's cells when ``tokens`` hold exactly ``width`` cells plus blank padding.

    Padding may stand before the cells (an empty label column of a merged
    header) or after them (a row shorter than its table).  When either reading
    is possible, literally empty cells are padding before explicit blank tokens
    ("/", NBSP); failing that the form decides: table 3 and 4 print their cells
    in the rightmost columns (``align="right"``), table 2 right after its label.
    """
    n = len(tokens)
    if n == width:
        return tokens
    if n < width:
        return None
    extra = n - width
    lead = 0
    while lead < n and tokens[lead].number is None:
        lead += 1
    trail = 0
    while trail < n and tokens[n - 1 - trail].number is None:
        trail += 1
    options = [k for k in range(0, min(lead, extra) + 1) if extra - k <= trail]
    if not options:
        return None
    if len(options) > 1:
        empty = [k for k in options
                 if all(not t.raw for t in tokens[:k]) and all(not t.raw for t in tokens[n - (extra - k):])]
        if len(empty) == 1:
            options = empty
    k = max(options) if align == "right" else min(options)
    return tokens[k: k + width]


def _fit_in_order(runs: list[_Run], free: list[int], slots: Sequence[Slot],
                  align: str = "right") -> dict[int, list[Token]] | None:
    """Fill ``free`` slots with ``runs`` in order, splitting runs by the slots' widths; None if they disagree."""
    out: dict[int, list[Token]] = {}
    if len(runs) == len(free):
        for run, s in zip(runs, free):
            cells = _trim(run.tokens, slots[s].width, "left" if run.pad_right else align)
            if cells is None:
                return None
            out[s] = cells
        return out
    widths = [slots[s].width for s in free]
    k = 0
    for r, run in enumerate(runs):
        tokens = run.tokens
        later_runs = len(runs) - r - 1
        taken = 0
        while k < len(free) and len(tokens) - taken >= widths[k]:
            rest = tokens[taken:]
            if taken and all(t.number is None for t in rest):
                # blank cells left over: padding, unless they fill exactly the slots
                # that no later run can fill
                room = sum(widths[k: len(free) - later_runs])
                if len(rest) != room:
                    break
            out[free[k]] = tokens[taken: taken + widths[k]]
            taken += widths[k]
            k += 1
        if taken == 0 or any(t.number is not None for t in tokens[taken:]):
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


def _assign(result: Placement, run: _Run, s: int, slots: Sequence[Slot], table: str, align: str) -> None:
    """Give ``run``'s cells to slot ``s``, or leave the row blank with a warning when they do not fit."""
    if len(run.tokens) == len(slots[s].fields):  # the usual row: exactly its cells (as _trim says)
        result.rows[s] = run.tokens
        return
    cells = _trim(run.tokens, slots[s].width, "left" if run.pad_right else align)
    if cells is None:
        result.warnings.append(
            f"{table}.{slots[s].key}: {len(run.tokens)} cells at {run.tokens[0].position}, "
            f"expected {slots[s].width}; row left unread"
        )
    else:
        result.rows[s] = cells


def place(lines: Sequence[Line], slots: Sequence[Slot], table: str, align: str = "right") -> Placement:
    """Place the cell tokens of ``lines`` (one table's section) into ``slots``.

    ``align`` says where a row's cells stand when a row holds blank padding too
    (see :func:`_trim`).
    """
    matcher = matcher_for(slots)
    runs, seen = _runs(lines, matcher, align)
    result = Placement(labels_seen=seen)
    moved = {id(run.tokens[run.moved]) for run in runs if run.moved is not None}
    if moved:
        result.moved = moved

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
    doubtful: set[int] = set()
    for (ri, si), (rj, sj) in zip(bounds, bounds[1:]):
        if 0 <= ri:
            _assign(result, runs[ri], si, slots, table, align)
        gap_runs = runs[ri + 1: rj]
        if not gap_runs:
            continue
        free = list(range(si + 1, sj))
        fitted = _fit_in_order(gap_runs, free, slots, align) if free else None
        if fitted is not None:
            result.rows.update(fitted)
            continue
        by_label = _fit_by_labels(gap_runs, free)
        if by_label is not None:
            for s, run in by_label.items():
                _assign(result, run, s, slots, table, align)
            continue
        where = ", ".join(r.tokens[0].position for r in gap_runs)
        names = ", ".join(slots[s].key for s in free) or "none"
        result.warnings.append(
            f"{table}: {len(gap_runs)} value rows at {where} cannot be placed with certainty "
            f"among rows [{names}]; left unread"
        )
        # a row printed with literally empty cells next to values that found no row may be a row
        # whose label and values a converter printed on different lines: unread, not blank
        for k, s in ((ri, si), (rj, sj)):
            if 0 <= k < len(runs) and runs[k].tokens and all(not t.raw for t in runs[k].tokens):
                doubtful.add(s)
    if doubtful:
        result.unread = set(doubtful)
    for s in doubtful:
        result.rows.pop(s, None)
        result.warnings.append(f"{table}.{slots[s].key}: printed with empty cells next to value rows that "
                               "could not be placed; left unread")
    return result


def split_tokens(split: Split, run: Run) -> list[Token]:
    """The cell tokens of a run read as ``split``: the run's unit goes with its last cell."""
    last = len(split.cells) - 1
    return [Token(raw, value_of(raw), run.unit if k == last else "", f"{run.position} run cell {k + 1}")
            for k, raw in enumerate(split.cells)]


_WHY = {"none": "splits in no way that fits", "several": "splits in several ways that fit",
        "many": "splits in too many ways",
        "empty": "splits in several ways if a blank cell may be printed as nothing",
        "sign": "starts a signed cell with a '-' that may be a blank marker or its sign, so it splits in no sure way"}


@dataclass
class GluedTable:
    """A table of crawler text before its runs are split: which rows each run fills."""

    slots: Sequence[Slot]
    table: str
    kinds: list[list[str]]  # each slot's field kinds (ingestion.digits)
    totals: bool
    #: (run, the slots it fills) in the form's order
    runs: list[tuple[Run, list[int]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    labels_seen: set[int] = field(default_factory=set)
    #: rows left unread before any split: named before several runs, or out of the form's order
    unread: set[int] = field(default_factory=set)


def glued_table(lines: Sequence[Line], slots: Sequence[Slot], table: str, *, totals: bool,
                amount_fields: frozenset[str] = frozenset(), signed_fields: frozenset[str] = frozenset()
                ) -> GluedTable:
    """The :class:`~ingestion.layouts.Run` s of a section of crawler text and the rows they fill.

    A run belongs to the row whose label is printed before it (in the form's order); in a table
    without row labels (table 4), one run fills every row, or one run each fills them in order.
    """
    matcher = matcher_for(slots)
    kinds = [[AMOUNT if f in amount_fields else SIGNED if f in signed_fields else COUNT for f in slot.fields]
             for slot in slots]
    out = GluedTable(slots, table, kinds, totals)
    claims: list[tuple[Run, int]] = []
    loose: list[Run] = []
    label: int | None = None
    for line in lines:
        if line.texts:
            found = matcher.match(line.norm)
            if found is not None:
                # (every row named: crawler text may print rows with no cells one after another)
                out.labels_seen |= matcher.match_all(line.norm)
            # a run whose own line names no row is loose: it never inherits an earlier line's label
            label = found
        for run in line.tokens:
            if not isinstance(run, Run):
                continue
            if label is None:
                loose.append(run)
            else:
                claims.append((run, label))
            label = None
    # a row named before more than one run (a number in prose above the table, a label printed
    # twice): which run is its own is a guess, so every run that claimed it is left unread
    count: dict[int, int] = {}
    for _, s in claims:
        count[s] = count.get(s, 0) + 1
    for s in sorted(s for s, n in count.items() if n > 1):
        where = ", ".join(run.position for run, t in claims if t == s)
        out.warnings.append(f"{table}: the label of row {slots[s].key} comes before {count[s]} runs (at {where}); "
                            "each left unread")
        out.unread.add(s)
    anchored: list[tuple[Run, list[int]]] = []
    last = -1
    for run, s in claims:
        if s in out.unread:
            continue
        if s <= last:
            out.warnings.append(f"{table}: label of row {slots[s].key} at {run.position} is out of order; "
                                "its run left unread")
            out.unread.add(s)
            continue
        anchored.append((run, [s]))
        last = s
    out.runs = anchored
    if loose:
        taken = {targets[0] for _, targets in anchored}
        free = [s for s in range(len(slots)) if s not in taken]
        where = ", ".join(r.position for r in loose)
        if matcher.has_aliases or not free:
            out.warnings.append(f"{table}: {len(loose)} runs of cells at {where} follow no row label; left unread")
        elif len(loose) == 1:
            out.runs.append((loose[0], free))
        elif len(loose) == len(free):
            out.runs += [(run, [s]) for run, s in zip(loose, free)]
        else:
            out.warnings.append(f"{table}: {len(loose)} runs of cells at {where} for {len(free)} rows; left unread")
    return out


def place_glued(glued: GluedTable) -> Placement:
    """Split the runs of a :class:`GluedTable` into its rows' cells, as :func:`ingestion.digits.read_run`
    allows (with ``totals``, a row's last cell is the sum of the others; table 4: of each row).

    A run that splits in no way, or in several, leaves its rows unread; ``ambiguous`` keeps the
    splits of a one-row run (for the column identities of table 3).  A source that prints blank
    cells as nothing needs no switch: read_run counts such readings, so a run that may hide an
    empty cell is unread.
    """
    slots, table = glued.slots, glued.table
    result = Placement(warnings=list(glued.warnings), labels_seen=set(glued.labels_seen), unread=set(glued.unread))
    for run, targets in glued.runs:
        fields = [k for s in targets for k in glued.kinds[s]]
        groups = tuple(slots[s].width for s in targets) if glued.totals else ()
        reading = read_run(run.raw, fields, groups)
        if reading.split is not None:
            tokens = split_tokens(reading.split, run)
            k = 0
            for s in targets:
                result.rows[s] = tokens[k: k + slots[s].width]
                k += slots[s].width
                if reading.rule:
                    result.inferred[s] = reading.rule
            continue
        if reading.candidates and len(targets) == 1:
            result.ambiguous[targets[0]] = (reading.candidates, run)
            continue
        unread = targets
        if reading.candidates:  # a run over several rows: a row every split reads alike is read
            unread = []
            k = 0
            for s in targets:
                width = slots[s].width
                if (len({sp.cells[k: k + width] for sp in reading.candidates}) == 1
                        and certain_cells(reading.candidates[0].cells[k: k + width])):
                    result.rows[s] = split_tokens(reading.candidates[0], run)[k: k + width]
                    result.inferred[s] = Rule.ROW_TOTAL
                else:
                    unread.append(s)
                k += width
            if not unread:
                continue
        result.unread.update(unread)
        names = ", ".join(slots[s].key for s in unread)
        result.warnings.append(f"{table}: the run {run.raw!r} at {run.position} {_WHY[reading.why or 'none']} "
                               f"into the cells of [{names}]; left unread")
    return result


_COUNT_UNITS = frozenset({"", "件", "个", "条", "项", "次"})
_AMOUNT_FACTORS = {"": Decimal(1), "万元": Decimal(1), "元": Decimal("0.0001"), "亿元": Decimal(10000)}


def to_cell(token: Token, field_key: str, amount: bool, where: str) -> tuple[Cell, str | None]:
    """The cell value of ``token`` for a field: integers for counts, 万元 for amounts.

    Returns the cell and a warning when the token cannot be a value of that field
    (a decimal count, a money unit on a count): such a cell is left unread, never
    rounded or guessed.
    """
    if token.number is None:
        return Cell(None, token.raw, token.position, Status.BLANK), None
    number = token.number
    if amount:
        factor = _AMOUNT_FACTORS.get(token.unit)
        if factor is None:
            return (Cell(None, token.raw, token.position, Status.UNREAD),
                    f"{where}: {token.raw!r} at {token.position} is not an amount")
        value = number * factor
        if value == value.to_integral_value():
            return Cell(int(value), token.raw, token.position, Status.VALUE), None
        return Cell(float(value), token.raw, token.position, Status.VALUE), None
    if token.unit not in _COUNT_UNITS:
        return (Cell(None, token.raw, token.position, Status.UNREAD),
                f"{where}: {token.raw!r} at {token.position} is not a count")
    if number != number.to_integral_value():
        return (Cell(None, token.raw, token.position, Status.UNREAD),
                f"{where}: {token.raw!r} at {token.position} is not a whole number")
    return Cell(int(number), token.raw, token.position, Status.VALUE), None


_new_cell = tuple.__new__  # Cell(...) without the NamedTuple constructor's Python-level call
_VALUE, _BLANK = Status.VALUE, Status.BLANK
_NOT_A_VALUE = object()
#: (number, unit, amount) -> the cell value, or _NOT_A_VALUE where to_cell warns.  The value
#: depends only on the number's value (not its spelling) and unit, and the same few numbers
#: fill most cells.
_VALUES = Memo(1 << 16)
#: the same for the usual case, a count field and a token without a unit, by number alone
#: (Decimal keys and int values: a dict the garbage collector never tracks)
_COUNTS: dict[Decimal, object] = {}


def _value(key: tuple[Decimal, str, bool], token: Token) -> object:
    value = _VALUES.lookup(key, _VALUES)
    if value is _VALUES:
        cell, warning = to_cell(token, "", key[2], "")
        value = _VALUES.put(key, _NOT_A_VALUE if warning else cell.value)
    return value


def fill_row(cells: dict[str, Cell], fields: Sequence[str], tokens: Sequence[Token], amount_fields: frozenset[str],
             table: str, row: str, warnings: list[str]) -> None:
    """Set ``cells[field]`` for each field and its token, as :func:`to_cell` makes them.

    A token that cannot be a value of its field leaves an unread cell and adds
    to_cell's warning (naming the cell ``table.row.field``) to ``warnings``.
    """
    get, counts = _VALUES.get, _COUNTS.get
    for f, token in zip(fields, tokens):
        raw, number, unit, position = token
        if number is None:
            cells[f] = _new_cell(Cell, (None, raw, position, _BLANK, ""))
            continue
        key = None
        if unit or f in amount_fields:
            key = (number, unit, f in amount_fields)
            value = get(key, _VALUES)
        else:  # most cells: a count without a unit
            value = counts(number, _VALUES)
        if value is _VALUES:
            if key is None:
                key = (number, unit, False)
                value = _value(key, token)
                if len(_COUNTS) >= 1 << 16:
                    _COUNTS.clear()
                _COUNTS[number] = value
            else:
                value = _value(key, token)
        if value is _NOT_A_VALUE:
            cells[f], warning = to_cell(token, f, f in amount_fields, f"{table}.{row}.{f}")
            warnings.append(warning)
        else:
            cells[f] = _new_cell(Cell, (value, raw, position, _VALUE, ""))
