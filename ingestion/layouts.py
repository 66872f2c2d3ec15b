"""From a document to one stream of :class:`Line` objects, whatever its layout.

Every layout ends up as the same thing: a sequence of lines, each holding the
label text it carries and the cell tokens (numbers or blanks) it carries, in
reading order.  A *row line* holds several pieces (a table row: ``|``-, tab- or
space-separated, an HTML/Word ``<tr>``); a *stream line* holds one piece (the
one-cell-per-line layouts).  :mod:`ingestion.tables` places the tokens into the
form's cells; nothing here knows the form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .text import NBSP, Token, classify, nbsp_blank_count, normalize_label

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
    texts: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
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


def row_line(pieces: list[str], where: str, cell_where: Callable[[int], str]) -> Line:
    """A table row from its pieces (cells as printed), in order.

    Empty pieces before the row's first label are the empty label cells of the
    form (rowspan columns): they are not blank *values* and are dropped.
    """
    line = Line(where=where, row=True)
    for col, piece in enumerate(pieces):
        kind = classify(piece)
        if kind is None:
            line.texts.append(piece.strip())
            continue
        number, unit = kind
        if number is None and not line.texts and any(classify(p) is None for p in pieces[col + 1:]):
            continue  # an empty label cell ahead of the label
        if not line.tokens:
            line.first_cell_col = col
        line.tokens.append(Token(piece.strip(), number, unit, cell_where(col)))
    return line


def stream_line(piece: str, where: str) -> Line | None:
    """A line that holds one piece: a label, one value, or a run of NBSP blanks; None for nothing."""
    blanks = nbsp_blank_count(piece)
    if blanks:
        return Line(where=where, tokens=[Token(NBSP, None, "", where)] * blanks)
    if not piece.strip():
        return None  # an empty separator line between cells
    kind = classify(piece)
    if kind is None:
        return Line(where=where, texts=[piece.strip()])
    number, unit = kind
    return Line(where=where, tokens=[Token(piece.strip(), number, unit, where)])


def _pipe_pieces(content: str) -> list[str]:
    pieces = content.split("|")
    if content.lstrip().startswith("|"):
        pieces = pieces[1:]
    if content.rstrip().endswith("|"):
        pieces = pieces[:-1]
    return pieces


def text_lines(text: str, where: Callable[[int], str] = lambda i: f"line {i}") -> list[Line]:
    """Lines of a plain-text document in any of the text layouts.

    - ``|``-separated rows (web pages flattened to text, markdown tables);
    - one cell per line, each starting with a tab, rows separated by empty lines;
    - one cell per line (runs of blank cells collapsed into one line of NBSPs);
    - cells separated by runs of spaces (text extracted from PDFs).
    """
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # one cell per line, each behind a tab, rows separated by empty lines (web pages flattened to text)
    tab_mode = text.count("\n\t") + text.count("\n \t") >= 20
    out: list[Line] = []
    pending: list[tuple[int, str]] = []  # tab mode: the cells of the row being read

    def flush() -> None:
        if not pending:
            return
        if len(pending) == 1:
            line = stream_line(pending[0][1], where(pending[0][0]))
            if line is not None:
                out.append(line)
        else:
            first = pending[0][0]
            line_nos = [n for n, _ in pending]
            out.append(row_line([p for _, p in pending], where(first), lambda c: where(line_nos[c])))
        pending.clear()

    for i, content in enumerate(raw_lines, start=1):
        bare = content.strip(" \t\r\f\v\u3000")  # NBSP is kept: a line of NBSPs is a run of blank cells
        if not bare:
            if tab_mode and not content.lstrip(" ").startswith("\t"):
                flush()
            elif tab_mode:
                pending.append((i, ""))  # a lone tab: an empty cell
            continue
        if len(bare) < 16 and _FOOTER.match(bare):
            continue
        if tab_mode:
            stripped = content.lstrip(" ")
            if stripped.startswith("\t"):
                pending.append((i, stripped[1:]))
                continue
            flush()
        if "|" in content:
            if _MD_SEPARATOR.match(content):
                continue
            pieces = _pipe_pieces(content)
            if len(pieces) > 1:
                base = where(i)
                line = row_line(pieces, base, lambda c, b=base: f"{b} col {c + 1}")
                line.pad_right = not bare.startswith("|")
                line.markdown = bare.startswith("|")
                out.append(line)
                continue
            content = pieces[0] if pieces else ""
        if not _MAYBE_CELL.search(content):
            stripped = content.strip()
            if stripped:
                out.append(Line(where="", texts=[stripped]))  # text only: no position needed
            continue
        pieces = [p for p in _SPACES.split(content) if p]
        if len(pieces) > 1 and not all(nbsp_blank_count(p) for p in pieces):
            base = where(i)
            out.append(row_line(pieces, base, lambda c, b=base: f"{b} col {c + 1}"))
        elif len(pieces) > 1:  # "\xa0 \xa0 \xa0": several blank cells collapsed into one line
            line = stream_line(" ".join(pieces), where(i))
            if line is not None:
                out.append(line)
        else:
            line = stream_line(content, where(i))
            if line is not None:
                out.append(line)
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
            line = stream_line(pieces[0], where)
            if line is not None:
                out.append(line)
            continue
        out.append(row_line(pieces, where, lambda c, w=where: f"{w} col {c + 1}"))
    return out
