"""From a document to one stream of :class:`Line` objects, whatever its layout.

Every layout ends up as the same thing: a sequence of lines, each holding the
label text it carries and the cell tokens (numbers or blanks) it carries, in
reading order.  A *row line* holds several pieces (a table row: ``|``-, tab- or
space-separated, an HTML/Word ``<tr>``); a *stream line* holds the cells of the
one-cell-per-line layouts: one piece, or the cells of consecutive such lines
(each cell keeps its own position).  :mod:`ingestion.tables` places the tokens into the
form's cells; nothing here knows the form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress
from typing import Callable, Iterable, NamedTuple, Sequence

from .memo import Memo
from .text import BLANK_MARKS, NBSP, Token, classified, classify, nbsp_blank_count, nfkc_keep_nbsp, normalize_label

# Page furniture that PDF extraction leaves inside tables: "- 4 -", "第 3 页 共 5 页".
_FOOTER = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?)\s*$"
)
# Markdown table separator rows: | --- | :---: |
_MD_SEPARATOR = re.compile(r"^\s*\|?(?:\s*:?-{2,}:?\s*\|)+\s*:?-*:?\s*$")
# Pieces of a PDF-text line are separated by runs of ordinary spaces (never NBSP,
# which marks blank cells in some web pages).
_SPACES = re.compile(r"[ \t\u3000]+")
# A line without any of these characters cannot hold a cell: it is read as text without splitting.
_MAYBE_CELL = re.compile("[0-9０-９\xa0/／\\\\\\-—–－─无空+＋]")


@dataclass(slots=True)
class Line:
    """One line (or table row) of a document: its label text and its cell tokens."""

    where: str
    # Lines made by this module share their texts (an immutable tuple) with the remembered
    # shape they come from, and a line without cells has the empty tuple for its tokens: every
    # object less per line is one less for the garbage collector to walk.  Read them only.
    texts: Sequence[str] = field(default_factory=list)
    tokens: Sequence[Token] = field(default_factory=list)
    row: bool = False  # several pieces on one line: a table row
    #: a |-separated row that does not start with "|" (a web page flattened to text):
    #: its empty cells after the last value are padding, not blank values
    pad_right: bool = False
    #: the column (piece index) of the row's first cell token: how many label columns precede it
    first_cell_col: int = 0
    #: a markdown table row ("| a | b |"): its columns line up with the table's header
    markdown: bool = False
    _norm: str | None = None

    @property
    def text(self) -> str:
        """The label text of the line, pieces joined by a space."""
        return " ".join(self.texts)

    @property
    def norm(self) -> str:
        """The normalised label text (see :func:`normalize_label`)."""
        if self._norm is None:
            self._norm = normalize_label("".join(self.texts))
        return self._norm


# What a line's pieces make of it, apart from where it stands: its texts and cells.  A
# document's lines recur across reports (labels, "0", the same prose), so the shape of each
# distinct content is worked out once and remembered; a Line is then made from it by adding
# the positions.  A shape is a plain tuple of strings, numbers and tuples of those, so that
# the garbage collector stops tracking the remembered ones: tens of thousands of cached
# objects would otherwise be walked by every full collection.
#   (texts, cells, cols, row, pad_right, first_cell_col, markdown, norm, positioned)
# cells: (raw, number, unit, position suffix) each: a row's cell stands at "<line> col N", a
# stream cell at "<line>"; cols: the piece index of each cell; positioned: False for a
# text-only line read without a position.
_Shape = tuple
_TEXTS, _CELLS, _COLS, _ROW, _POSITIONED = 0, 1, 2, 3, 8
#: The first_cell_col of a line that holds a value pulled out of its row with the cell's note.
NOTE_VALUE = -1


def _shape(texts: Sequence[str], cells: Sequence[tuple[str, Decimal | None, str, str]], cols: Sequence[int], *,
           row: bool = False, first_cell_col: int = 0, pad_right: bool = False, markdown: bool = False,
           positioned: bool = True) -> _Shape:
    return (tuple(texts), tuple(cells), tuple(cols), row, pad_right, first_cell_col, markdown,
            normalize_label("".join(texts)), positioned)


def _at(shape: _Shape, where: str) -> Line:
    """The line of ``shape`` at ``where``: each cell's position is ``where`` plus its suffix."""
    texts, cells, _, row, pad_right, first_cell_col, markdown, norm, positioned = shape
    if not cells:
        tokens = ()
    elif len(cells) == 1:  # the one-cell-per-line layouts: most lines of a document
        raw, number, unit, suffix = cells[0]
        tokens = [_new_token(Token, (raw, number, unit, where + suffix))]
    else:
        tokens = [_new_token(Token, (raw, number, unit, where + suffix)) for raw, number, unit, suffix in cells]
    # Line(...) field by field: a third faster than the dataclass __init__, on the hottest path
    line = _new_line(Line)
    line.where = where if positioned else ""
    line.texts = texts
    line.tokens = tokens
    line.row = row
    line.pad_right = pad_right
    line.first_cell_col = first_cell_col
    line.markdown = markdown
    line._norm = norm
    return line


def _at_each(shape: _Shape, where: str, cell_where: Callable[[int], str]) -> Line:
    """The line of ``shape`` at ``where``, each cell at ``cell_where(piece index)``."""
    line = _at(shape, where)
    line.tokens = [_new_token(Token, (raw, number, unit, cell_where(col)))
                   for (raw, number, unit, _), col in zip(shape[_CELLS], shape[_COLS])]
    return line


def _at_pieces(shape: _Shape, wheres: Sequence[str]) -> Line:
    """The line of ``shape`` whose pieces stand at ``wheres`` (the line at the first)."""
    line = _at(shape, wheres[0])
    line.tokens = [_new_token(Token, (raw, number, unit, wheres[col]))
                   for (raw, number, unit, _), col in zip(shape[_CELLS], shape[_COLS])]
    return line


_new_token = tuple.__new__  # Token(...) without the NamedTuple constructor's Python-level call
_new_line = object.__new__
_UNSEEN = object()
_SHAPE_CACHE = 1 << 16  # distinct contents remembered per kind; prose unique to a report comes and goes


_MAX_SUFFIX = 64
_SUFFIXES = tuple(f" col {col + 1}" for col in range(_MAX_SUFFIX))


def _row_shape(pieces: Sequence[str], pad_right: bool = False, markdown: bool = False) -> _Shape:
    """The shape of a table row from its pieces (see :func:`row_line`)."""
    texts: list[str] = []
    cells: list[tuple[str, Decimal | None, str, str]] = []
    cols: list[int] = []
    first = 0
    kinds = [classified(piece, _UNSEEN) for piece in pieces]  # classify's own table first: no call per piece
    if _UNSEEN in kinds:
        kinds = [classify(piece) if kind is _UNSEEN else kind for piece, kind in zip(pieces, kinds)]
    for col, kind in enumerate(kinds):
        if kind is None:
            texts.append(pieces[col].strip())
            continue
        number, unit = kind
        if number is None and not texts and None in kinds[col + 1:]:
            continue  # an empty label cell ahead of the label
        if not cells:
            first = col
        cells.append((pieces[col].strip(), number, unit, _SUFFIXES[col] if col < _MAX_SUFFIX else f" col {col + 1}"))
        cols.append(col)
    return _shape(texts, cells, cols, row=True, first_cell_col=first, pad_right=pad_right, markdown=markdown)


def _stream_shape(piece: str) -> _Shape | None:
    """The shape of a line that holds one piece (see :func:`stream_line`)."""
    blanks = nbsp_blank_count(piece)
    if blanks:
        return _shape([], [(NBSP, None, "", "")] * blanks, [0] * blanks)
    if not piece.strip():
        return None  # an empty separator line between cells
    kind = classify(piece)
    if kind is None:
        return _shape([piece.strip()], [], [])
    number, unit = kind
    return _shape([], [(piece.strip(), number, unit, "")], [0])


#: Remembered shapes: rows by their pieces, stream lines by their piece, plain-text lines by their content.
_ROWS = Memo(_SHAPE_CACHE)  # tuple of pieces -> shape
_STREAMS = Memo(_SHAPE_CACHE)  # piece -> shape or None
_PLAIN = Memo(_SHAPE_CACHE)  # content -> shape or None


def _plain(content: str) -> _Shape | None:
    shape = _PLAIN.lookup(content, _UNSEEN)
    if shape is _UNSEEN:
        shape = _PLAIN.put(content, _plain_shape(content))
    return shape


def _row(pieces: Sequence[str]) -> _Shape:
    key = tuple(pieces)
    shape = _ROWS.lookup(key)
    if shape is None:
        shape = _ROWS.put(key, _row_shape(key))
    return shape


def _stream(piece: str) -> _Shape | None:
    shape = _STREAMS.lookup(piece, _UNSEEN)
    if shape is _UNSEEN:
        shape = _STREAMS.put(piece, _stream_shape(piece))
    return shape


def row_line(pieces: list[str], where: str, cell_where: Callable[[int], str]) -> Line:
    """A table row from its pieces (cells as printed), in order.

    Empty pieces before the row's first label are the empty label cells of the
    form (rowspan columns): they are not blank *values* and are dropped.
    """
    return _at_each(_row(pieces), where, cell_where)


def stream_line(piece: str, where: str) -> Line | None:
    """A line that holds one piece: a label, one value, or a run of NBSP blanks; None for nothing."""
    shape = _stream(piece)
    return None if shape is None else _at(shape, where)


def _pipe_pieces(content: str) -> list[str]:
    pieces = content.split("|")
    if content.lstrip().startswith("|"):
        pieces = pieces[1:]
    if content.rstrip().endswith("|"):
        pieces = pieces[:-1]
    return pieces


# What PDF-to-markdown converters wrap text in: HTML tags (<span id="page-2-0"></span>, <br>, <sup>)
# and bold or italic markers (**text**, __text__).
_MD_MARKUP = re.compile(r"</?[A-Za-z][^<>|]*>|\*\*|__")
# A value a converter pulled out of its table row together with the cell's note: "3（含修订 2 件）".
_NOTE_VALUE = re.compile(r"^\s*(\d{1,9})\s*([(（][^()（）]*[)）])\s*$")


def _plain_shape(content: str) -> _Shape | None:
    """The shape of one line of a text document outside tab mode; None for a line that holds nothing."""
    bare = content.strip(" \t\r\f\v\u3000")  # NBSP is kept: a line of NBSPs is a run of blank cells
    if not bare:
        return None
    if len(bare) < 16 and _FOOTER.match(bare):
        return None
    if ("<" in content or "*" in content or "__" in content) and _MD_MARKUP.search(content):
        return _plain_shape(_MD_MARKUP.sub("", content))
    if bare[0].isdigit() and bare[-1] in ")）":
        note = _NOTE_VALUE.match(bare)
        if note is not None:
            # one cell, flagged as a note's value (first_cell_col -1): tables.py puts it back in
            # the empty cell of the row above, or drops it
            number, unit = classify(note.group(1))  # type: ignore[misc]
            return _shape([note.group(2)], [(note.group(1), number, unit, "")], [0], first_cell_col=NOTE_VALUE)
    if "|" in content:
        if _MD_SEPARATOR.match(content):
            return None
        pieces = _pipe_pieces(content)
        if len(pieces) > 1:
            return _row_shape(pieces, pad_right=not bare.startswith("|"), markdown=bare.startswith("|"))
        if len(pieces) == 1 and not pieces[0].strip() and bare.startswith("|") and bare.endswith("|"):
            return _row_shape(pieces, markdown=True)  # "|  |": the empty cell of a one-column markdown table
        content = pieces[0] if pieces else ""
    if not _MAYBE_CELL.search(content):
        stripped = content.strip()
        if stripped:
            return _shape([stripped], [], [], positioned=False)  # text only: no position needed
        return None
    pieces = [p for p in _SPACES.split(content) if p]
    # (a piece is a run of NBSP blanks only if the line holds an NBSP at all)
    if len(pieces) > 1 and not (NBSP in content and all(nbsp_blank_count(p) for p in pieces)):
        return _row_shape(pieces)
    if len(pieces) > 1:  # "\xa0 \xa0 \xa0": several blank cells collapsed into one line
        return _stream_shape(" ".join(pieces))
    return _stream_shape(content)


# How a line reads in tab mode (see text_lines): its kind, or for a cell line the cell's text.
_TAB_FLUSH, _TAB_EMPTY_CELL, _TAB_SKIP, _TAB_PLAIN = object(), object(), object(), object()
_TAB_KINDS = Memo(_SHAPE_CACHE)  # content -> kind


def _tab_kind(content: str) -> object:
    bare = content.strip(" \t\r\f\v\u3000")
    if not bare:
        return _TAB_EMPTY_CELL if content.lstrip(" ").startswith("\t") else _TAB_FLUSH
    if len(bare) < 16 and _FOOTER.match(bare):
        return _TAB_SKIP
    stripped = content.lstrip(" ")
    if stripped.startswith("\t"):
        return stripped[1:]
    return _TAB_PLAIN


def _line_where(i: int) -> str:
    return f"line {i}"


def text_lines(text: str, where: Callable[[int], str] = _line_where) -> list[Line]:
    """Lines of a plain-text document in any of the text layouts.

    - ``|``-separated rows (web pages flattened to text, markdown tables);
    - one cell per line, each starting with a tab, rows separated by empty lines;
    - one cell per line (runs of blank cells collapsed into one line of NBSPs);
    - cells separated by runs of spaces (text extracted from PDFs).
    """
    raw_lines = (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text).split("\n")
    # one cell per line, each behind a tab, rows separated by empty lines (web pages flattened to text);
    # each such line holds a tab, and counting tabs is far quicker than counting "\n \t"
    tab_mode = text.count("\t") >= 20 and text.count("\n\t") + text.count("\n \t") >= 20
    out: list[Line] = []
    append = out.append
    plain = _PLAIN.get
    if not tab_mode:
        stream: Line | None = None  # the last line, while it holds stream cells only
        default_where = where is _line_where  # spelt out below: a call less per line
        # empty lines hold nothing (and are a third to a half of the one-cell-per-line layouts):
        # compress() passes over them without a turn of this loop
        for i, content in compress(enumerate(raw_lines, start=1), raw_lines):
            shape = plain(content, _UNSEEN)
            if shape is _UNSEEN:
                shape = _plain(content)
            if shape is None:
                continue
            if not shape[_POSITIONED]:  # text only, read without a position
                append(_at(shape, ""))
                stream = None
                continue
            base = f"line {i}" if default_where else where(i)
            if shape[_TEXTS] or shape[_ROW]:  # a label, prose or a table row
                append(_at(shape, base))
                stream = None
            elif stream is None:
                stream = _at(shape, base)
                append(stream)
            else:  # one cell per line: the cells of consecutive lines make one stream line
                stream.tokens += [_new_token(Token, (raw, number, unit, base + suffix))
                                  for raw, number, unit, suffix in shape[_CELLS]]
        return out

    pending: list[str] = []  # the cells of the row being read
    pending_nos: list[int] = []  # and their line numbers

    def flush() -> None:
        if not pending:
            return
        if len(pending) == 1:
            shape = _stream(pending[0])
            if shape is not None:
                append(_at(shape, where(pending_nos[0])))
        else:
            append(_at_pieces(_row(pending), [where(n) for n in pending_nos]))
        pending.clear()
        pending_nos.clear()

    kinds = _TAB_KINDS.get
    for i, content in enumerate(raw_lines, start=1):
        kind = kinds(content)
        if kind is None:
            kind = _TAB_KINDS.lookup(content)
            if kind is None:
                kind = _TAB_KINDS.put(content, _tab_kind(content))
        if kind.__class__ is str:
            pending.append(kind)
            pending_nos.append(i)
        elif kind is _TAB_FLUSH:
            flush()
        elif kind is _TAB_EMPTY_CELL:
            pending.append("")  # a lone tab: an empty cell
            pending_nos.append(i)
        elif kind is _TAB_PLAIN:
            flush()
            shape = plain(content, _UNSEEN)
            if shape is _UNSEEN:
                shape = _plain(content)
            if shape is not None:
                append(_at(shape, where(i) if shape[_POSITIONED] else ""))
    flush()
    return out


def table_rows_lines(rows: Iterable[list[str]], table_no: int, prefix: str = "") -> list[Line]:
    """Lines of a table given as rows of cell texts (HTML ``<tr>``, Word rows, PDF ruled tables)."""
    out = []
    for r, pieces in enumerate(rows, start=1):
        if not pieces:
            continue
        where = f"{prefix}table {table_no} row {r}"
        if len(pieces) == 1:
            shape = _stream(pieces[0])
            if shape is not None:
                out.append(_at(shape, where))
            continue
        out.append(_at(_row(pieces), where))  # cells at "<row> col N"
    return out


# --------------------------------------------------------------------------------------------
# Crawler text with no separator between cells (a web page's tables flattened to their inner
# text): ``（二）部分公开1200000012（三）不予公开1.属于国家秘密0000000``.  Read only when the
# ordinary reading of a text finds no table (see :func:`looks_glued`): the runs of cells are
# cut out of the text here and split into cells by the placer, which knows each row's width.
# --------------------------------------------------------------------------------------------


class Run(NamedTuple):
    """A run of a row's cells printed with no separator between them: the placer splits it
    (:mod:`ingestion.digits`).  ``unit`` is a unit printed after the run (万元, 元, 件 …)."""

    raw: str
    unit: str
    position: str


# A row of table 3 whose cells are glued to its label: the end of a row label directly followed by
# five digits or blank markers at least (prose numbers, "信息1136条", do not follow a row's label;
# text extracted from a PDF puts spaces between cells).
_GLUE = re.compile(
    "(?:新收政府信息公开申请数量|上年结转政府信息公开申请数量|予以公开|国家秘密|禁止公开|三安全一稳定[”\"]?|第三方合法权益|"
    "内部事务信息|过程性信息|执法案卷|查询事项|相关政府信息|另行制作|仍不明确|投诉类申请|重复申请|公开出版物|反复申请|"
    "已获取信息|其他处理|其他|总计|继续办理)[ \t]?[0-9０-９\xa0/／—–－-]{5,}")
# A run of cells: digits (decimal points between digits), signs, blank markers (NBSP: an empty
# cell, &nbsp;) and spaces.
_MARKS = re.escape("".join(sorted({ch for mark in BLANK_MARKS for ch in mark})))
_RUN = re.compile(rf"(?:[{_MARKS}+]*[0-9]|[{_MARKS}])(?:[0-9 {_MARKS}+]|\.(?=[0-9]))*")
_BLANK_MARK = re.compile(f"[{_MARKS}]")
_RUN_UNIT = re.compile(r"万元|亿元|元|件|个|条|项|次")
# A run with one of these units followed by a clause's end ("共办理行政许可15件，") is prose, not a
# cell (NFKC has made "，" ",", "；" ";"; "。" stays)
_PROSE_UNITS = frozenset({"件", "项", "条"})
_CLAUSE_ENDS = frozenset(",.;。、")
# Digits that are text: a date or a share (2023年, 12月, 5%), a page (第3页)
_TEXT_AFTER = frozenset("年月日号时分秒%页")  # (a set of characters: "" is not in it)
_CN_NUM = "一二三四五六七八九十"
# Where a text run of crawler text is cut into lines: before a heading's or a row's numbering
# (一、 （三）), before 第二十条, and after a section heading (so that it stands alone).
_GLUED_CUTS = re.compile(
    rf"(?=[{_CN_NUM}]{{1,3}}、)|(?<!第)(?=[(（][{_CN_NUM}]{{1,3}}[)）])|(?=第二十条)"
)


def looks_glued(text: str, min_runs: int = 5) -> bool:
    """Whether ``text`` prints table-3 rows with their cells glued to their labels, ``min_runs`` times at least."""
    count = 0
    for _ in _GLUE.finditer(text):
        count += 1
        if count >= min_runs:
            return True
    return False


_NUMBERED_HEADING = re.compile(rf"\s*[{_CN_NUM}]{{1,3}}、")


def _cut_text(text: str, heading_ends: re.Pattern[str] | None) -> list[str]:
    """A text run cut where a numbered heading or row starts, and after a section heading that
    opens its piece (``三、收到和处理政府信息公开申请情况``; not one that prose names)."""
    cuts = {m.start() for m in _GLUED_CUTS.finditer(text)}
    cuts.discard(0)
    bounds = [0, *sorted(c for c in cuts if c < len(text)), len(text)]
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    if heading_ends is not None:
        out = []
        for piece in pieces:
            numbered = _NUMBERED_HEADING.match(piece)
            m = heading_ends.search(piece, numbered.end()) if numbered else None
            if m is not None and m.start() - numbered.end() <= 8 and m.end() < len(piece):
                out += [piece[:m.end()], piece[m.end():]]  # (8: "政府信息公开" before the marker)
            else:
                out.append(piece)
        pieces = out
    return [p for p in pieces if p.strip()]


def glued_lines(text: str, heading_ends: re.Pattern[str] | None = None) -> list[Line]:
    """The lines of a crawler text whose table cells are glued together: each row's label text and
    its :class:`Run` on one line (the run's row is the label before it), headings on their own.

    ``heading_ends`` matches the section headings a line is cut after.
    """
    out: list[Line] = []
    for no, raw_line in enumerate(text.splitlines(), start=1):
        # NFKC, but an NBSP (an empty cell) stays one; 本年增/减 is a label, not a blank cell between two
        line = nfkc_keep_nbsp(raw_line).replace("增/减", "增减")
        if not line.strip(" \t\r\f\v\u3000"):  # (a line of NBSPs may be a row of empty cells)
            continue
        where = f"line {no}"
        pos = 0  # where the text since the last run starts
        for m in _RUN.finditer(line):
            a, b = m.start(), m.end()
            run = m.group().rstrip(" ")
            b = a + len(run)
            if not any(ch.isdigit() for ch in run):
                # blank cells only: a row printed with blank markers after its label, or a line of
                # five at least (table 4's row); not a line's indentation or an empty paragraph
                if not _BLANK_MARK.search(run):
                    continue
                if not line[pos:a].strip(" \xa0\t") and (line[b:].strip() or len(_BLANK_MARK.findall(run)) < 5):
                    continue
            before = line[a - 1] if a else ""
            after = line[b] if b < len(line) else ""
            if after and after in ".、" and not line[b + 1: b + 2].isdigit():
                run, b = run[:-1].rstrip(" "), b - 1  # "…00002.其他…": item 2 of the next row
            if (before and before in "(（" and after and after in ")）") or after in _TEXT_AFTER or not run:
                continue  # numbering "(1)", a date, a share: text
            unit_m = _RUN_UNIT.match(line, b)
            unit = unit_m.group() if unit_m else ""
            if unit in _PROSE_UNITS and line[b + len(unit): b + len(unit) + 1] in _CLAUSE_ENDS:
                continue  # "行政许可15件，": a number in a sentence, not a cell
            pieces = _cut_text(line[pos:a], heading_ends)
            for piece in pieces[:-1]:
                out.append(Line(where, (piece.strip(),), ()))
            label = pieces[-1].strip() if pieces else ""
            out.append(Line(where, (label,) if label else (), (Run(run, unit, where),)))
            pos = b + len(unit)
        for piece in _cut_text(line[pos:], heading_ends):
            out.append(Line(where, (piece.strip(),), ()))
    return out
