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
from typing import Callable, Iterable, Sequence

from .memo import Memo
from .text import NBSP, Token, classified, classify, nbsp_blank_count, normalize_label

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


def _plain_shape(content: str) -> _Shape | None:
    """The shape of one line of a text document outside tab mode; None for a line that holds nothing."""
    bare = content.strip(" \t\r\f\v\u3000")  # NBSP is kept: a line of NBSPs is a run of blank cells
    if not bare:
        return None
    if len(bare) < 16 and _FOOTER.match(bare):
        return None
    if "|" in content:
        if _MD_SEPARATOR.match(content):
            return None
        pieces = _pipe_pieces(content)
        if len(pieces) > 1:
            return _row_shape(pieces, pad_right=not bare.startswith("|"), markdown=bare.startswith("|"))
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
