"""Parse a report file into the canonical record: the one entry point of ``ingestion``.

files -> bytes -> :class:`~ingestion.formats.Document` (lines) -> sections ->
placed cells -> :class:`~ingestion.record.Report`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .digits import Split, resolve_by_columns
from .formats import MAX_TEXT_BYTES, Document, FormatError, read_document, sniff_format, text_too_large
from .layouts import Line, glued_lines, looks_glued
from .limits import DEFAULT_TIMEOUT_S, FileTimeout, hit_ceiling, memory_reason, release_memory, start_file, time_limit
from .metadata import read_metadata
from .record import EMPTY, UNREAD, Cell, ErrorKind, ParseError, Report, Rule, Status
from .tables import GluedTable, LabelMatcher, Placement, Slot, fill_row, glued_table, place, place_glued, split_tokens
from .templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    NON_OUTCOME_ROWS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SECTION_MARKERS,
    SIGNED_FIELDS,
    TEMPLATE_MARKERS,
    application_rows,
    template_for_year,
)
from .text import nfkc, normalize_label

__all__ = ["parse_bytes", "parse_file", "iter_files", "sniff_format", "MAX_FILE_BYTES"]

#: Files larger than this are refused before reading, by default (``parse_file(max_bytes=...)``).
MAX_FILE_BYTES = 200 * 1024 * 1024

_HEADING_MAX = 40  # a heading is a short line; prose that mentions a heading is long
_MARKERS = {k: tuple(normalize_label(m) for m in v) for k, v in SECTION_MARKERS.items()}
# one search per line instead of one substring test per marker: "any marker occurs in the line"
_MARKER_RE = {k: re.compile("|".join(map(re.escape, v))) for k, v in _MARKERS.items()}
_TEMPLATE_MARKERS = {k: tuple(normalize_label(m) for m in v) for k, v in TEMPLATE_MARKERS.items()}
# lines that carry no template marker at all (nearly all) are passed over with one search
_ANY_TEMPLATE_MARKER = re.compile("|".join(re.escape(m) for v in _TEMPLATE_MARKERS.values() for m in v))
_SPLIT_MATCHER = LabelMatcher(
    [Slot(r.key, (), r.aliases) for r in APPLICATION_ROWS if r.other_variant == "split" and r.aliases]
)
_APP_SLOTS = {
    variant: tuple(Slot(r.key, APPLICANT_COLUMNS, r.aliases + r.numbered) for r in application_rows(variant))
    for variant in ("single", "split")
}
_REVIEW_SLOTS = tuple(Slot(k, REVIEW_COLUMNS) for k in REVIEW_ROWS)
_PROACTIVE_SLOTS = {
    t: tuple(Slot(r.key, r.fields, r.aliases) for r in rows) for t, rows in PROACTIVE_ROWS.items()
}
_FIRST_ROW = normalize_label("本年新收")


def _heading(lines: Sequence[Line], section: str, start: int) -> int | None:
    """Index of the first short line from ``start`` on that carries a marker of ``section``."""
    search = _MARKER_RE[section].search
    for i in range(start, len(lines)):
        if lines[i].texts:
            norm = lines[i].norm
            if len(norm) <= _HEADING_MAX and search(norm):
                return i
    return None


def _sections(lines: Sequence[Line], source: str) -> dict[str, Sequence[Line]]:
    """The lines of tables 2, 3 and 4, found by their headings."""
    proactive = apps = first_row = second_article = None
    is_apps, is_proactive = _MARKER_RE["applications"].search, _MARKER_RE["proactive"].search
    for i, line in enumerate(lines):
        if not line.texts:
            continue
        norm = line.norm
        if first_row is None and _FIRST_ROW in norm:
            first_row = i
        if len(norm) > _HEADING_MAX:
            continue
        if is_apps(norm):
            apps = i
            break
        if is_proactive(norm):
            proactive = i  # the last such heading before table 3
        elif second_article is None and "第二十条" in norm:
            second_article = i
    if apps is None:
        # no table-3 heading: table 3 starts at its first row
        apps = first_row
        if apps is None:
            raise ParseError(source, "table 3 not found (no 收到和处理政府信息公开申请情况 section)",
                             ErrorKind.NOT_A_REPORT)
    if proactive is None:
        proactive = second_article
    reviews = _heading(lines, "reviews", apps + 1)
    end = _heading(lines, "end", (apps if reviews is None else reviews) + 1)
    stop = len(lines) if end is None else end
    return {
        "proactive": lines[proactive:apps] if proactive is not None and proactive < apps else [],
        "applications": lines[apps: reviews if reviews is not None else stop],
        "reviews": lines[reviews:stop] if reviews is not None else [],
    }


def _template(proactive: Sequence[Line], year: int | None) -> str:
    hits = {t: 0 for t in _TEMPLATE_MARKERS}
    for line in proactive:
        norm = line.norm
        if not _ANY_TEMPLATE_MARKER.search(norm):
            continue
        for t, markers in _TEMPLATE_MARKERS.items():
            hits[t] += sum(1 for m in markers if m in norm)
    best = max(hits, key=lambda t: hits[t])
    if hits[best] and list(hits.values()).count(hits[best]) == 1:
        return best
    return template_for_year(year) if year is not None else "2021"


def _fill(section: Sequence[Line], slots: Sequence[Slot], table: str, warnings: list[str],
          amount_fields: frozenset[str] = frozenset(), glued: GluedTable | None = None
          ) -> tuple[dict[str, dict[str, Cell]], list[str]]:
    """Place a section into its slots; returns cells per row key and the keys of rows not found.

    ``glued``: the section is crawler text, its runs of digits split into the rows' cells.
    """
    if glued is not None:
        placement = place_glued(glued)
    else:
        # table 2 prints a row's fields right after its label; tables 3 and 4 in the rightmost columns
        placement = place(section, slots, table, align="left" if table == "proactive" else "right")
    warnings.extend(placement.warnings)
    printed = {slots[i].key for i in placement.labels_seen}
    rows: dict[str, dict[str, Cell]] = {}
    missing: list[str] = []
    placed = placement.rows
    inferred, moved = placement.inferred, placement.moved
    for i, slot in enumerate(slots):
        tokens = placed.get(i)
        if tokens:
            rows[slot.key] = cells = dict.fromkeys(slot.fields, UNREAD)
            fill_row(cells, slot.fields, tokens, amount_fields, table, slot.key, warnings)
            if inferred and i in inferred:
                _infer(cells, inferred[i])
            if moved:
                for f, token in zip(slot.fields, tokens):
                    if id(token) in moved and cells[f].status != Status.UNREAD:
                        cells[f] = cells[f]._replace(status=Status.INFERRED, rule=Rule.MOVED_WITH_NOTE)
            continue
        if i in placement.ambiguous or i in placement.unread:
            rows[slot.key] = dict.fromkeys(slot.fields, UNREAD)
            continue
        if tokens is None and slot.key in printed and not placement.warnings:
            # the row's label is printed with no cells after it (an empty table row), and no
            # value of the table is left over that could be this row's: blank cells
            warnings.append(f"{table}.{slot.key}: printed without values; left blank")
            tokens = []
        if tokens is None:
            rows[slot.key] = dict.fromkeys(slot.fields, UNREAD)
            missing.append(slot.key)
        else:
            rows[slot.key] = dict.fromkeys(slot.fields, EMPTY)
    if placement.ambiguous:
        _resolve(rows, placement, slots, table, amount_fields, warnings)
    return rows, missing


def _infer(cells: dict[str, Cell], rule: str) -> None:
    """Mark the cells of a row read by ``rule`` as inferred (a cell that is no value stays unread)."""
    for f, cell in cells.items():
        if cell.status != Status.UNREAD:
            cells[f] = cell._replace(status=Status.INFERRED, rule=rule)


def _resolve(rows: dict[str, dict[str, Cell]], placement: Placement, slots: Sequence[Slot], table: str,
             amount_fields: frozenset[str], warnings: list[str]) -> None:
    """The rows whose run of digits splits in several ways: read those the column identities of
    table 3 decide, leave the others unread."""
    ambiguous = {slots[i].key: splits for i, (splits, _) in placement.ambiguous.items()}
    decided: dict[str, Split] = {}
    if table == "applications":
        values = {k: None if any(c.status == Status.UNREAD for c in row.values()) else [c.value for c in row.values()]
                  for k, row in rows.items()}
        outcomes = [k for k in rows if k not in NON_OUTCOME_ROWS]
        decided = resolve_by_columns(values, outcomes, ambiguous)
    for i, (candidates, run) in placement.ambiguous.items():
        slot = slots[i]
        split = decided.get(slot.key)
        if split is None:
            warnings.append(f"{table}.{slot.key}: its run of digits splits in {len(candidates)} ways that fit; "
                            "left unread")
            continue
        cells = rows[slot.key]
        fill_row(cells, slot.fields, split_tokens(split, run), amount_fields, table, slot.key, warnings)
        _infer(cells, Rule.COLUMN_IDENTITIES)


def parse_document(doc: Document, source: str) -> Report:
    """The canonical record of a document already read into lines."""
    meta = read_metadata(doc.text)
    sections = _sections(doc.lines, source)
    warnings: list[str] = []

    app_section = sections["applications"]
    variant = "split" if any(_SPLIT_MATCHER.match(ln.norm) is not None for ln in app_section if ln.texts) else "single"
    if not any(ln.tokens for ln in app_section):
        raise ParseError(source, "table 3 not found (its section holds no numbers)", ErrorKind.NOT_A_REPORT)
    slots = _APP_SLOTS[variant]
    template = _template(sections["proactive"], meta.year)
    glued: dict[str, GluedTable | None] = dict.fromkeys(("applications", "proactive", "reviews"))
    if doc.glued:  # crawler text: runs split where one reading fits (tables 3 and 4: by their totals too)
        glued["applications"] = glued_table(app_section, slots, "applications", totals=True)
        glued["proactive"] = glued_table(sections["proactive"], _PROACTIVE_SLOTS[template], "proactive",
                                         totals=False, amount_fields=AMOUNT_FIELDS, signed_fields=SIGNED_FIELDS)
        glued["reviews"] = glued_table(sections["reviews"], _REVIEW_SLOTS, "reviews", totals=True)
    app_rows, missing = _fill(app_section, slots, "applications", warnings, glued=glued["applications"])
    if missing and (len(missing) * 2 > len(slots) or slots[-1].key in missing and not warnings):
        raise ParseError(source, f"table 3 incomplete: rows {', '.join(missing)} not found",
                         ErrorKind.INCOMPLETE_TABLE)
    for key in missing:
        warnings.append(f"applications.{key}: row not found; left unread")

    if sections["proactive"]:
        pro_rows, pro_missing = _fill(sections["proactive"], _PROACTIVE_SLOTS[template], "proactive", warnings,
                                      AMOUNT_FIELDS, glued=glued["proactive"])
        for key in pro_missing:
            warnings.append(f"proactive.{key}: row not found; left unread")
    else:
        warnings.append("table 2 not found; left unread")
        pro_rows = {s.key: dict.fromkeys(s.fields, UNREAD) for s in _PROACTIVE_SLOTS[template]}

    if sections["reviews"]:
        rev_rows, rev_missing = _fill(sections["reviews"], _REVIEW_SLOTS, "reviews", warnings,
                                      glued=glued["reviews"])
        for key in rev_missing:
            warnings.append(f"reviews.{key}: row not found; left unread")
    else:
        warnings.append("table 4 not found; left unread")
        rev_rows = {s.key: dict.fromkeys(s.fields, UNREAD) for s in _REVIEW_SLOTS}

    if meta.year is None:
        warnings.append("year not found")
    return Report(
        source=source,
        agency=meta.agency,
        year=meta.year,
        template=template,
        applications={k: [row[c] for c in APPLICANT_COLUMNS] for k, row in app_rows.items()},
        reviews={k: [row[c] for c in REVIEW_COLUMNS] for k, row in rev_rows.items()},
        proactive=pro_rows,
        published=meta.published,
        index_number=meta.index_number,
        division_code=meta.division_code,
        warnings=warnings,
        year_source=meta.year_source,
        agency_source=meta.agency_source,
    )


def _parse_best(doc: Document, source: str) -> Report:
    """Parse a document; where it has a second reading, keep whichever parses cleanly.

    The ordinary readings (the document, then its fallback: a PDF's plain text) keep the first
    clean one, else the one with fewest warnings.  A text (or a PDF's text) that they cannot
    read in full, or cannot read at all, and that prints runs of cells glued to their labels is
    read once more as crawler text (:func:`_glued`), once for the text all the readings share,
    and kept where it leaves fewer cells unread.
    """
    best: Report | None = None
    error: ParseError | None = None
    reading: Document | None = doc
    while reading is not None:
        try:
            report = parse_document(reading, source)
        except ParseError as exc:
            error = error or exc
        else:
            if not report.warnings:
                return report
            if best is None or len(report.warnings) < len(best.warnings):
                best = report
        reading = reading.fallback
    glued = _glued(doc) if best is None or best.cell_keys(Status.UNREAD) else None
    if glued is not None:
        try:
            crawler = parse_document(glued, source)
        except ParseError:
            pass
        else:
            if best is None or len(crawler.cell_keys(Status.UNREAD)) < len(best.cell_keys(Status.UNREAD)):
                return crawler
    if best is None:
        assert error is not None
        raise error
    return best


# Section headings, longest first: a line of crawler text is cut after one (it stands alone).
_HEADING_ENDS = re.compile("|".join(map(re.escape, sorted(
    {m for v in SECTION_MARKERS.values() for m in v} | {nfkc(m) for v in SECTION_MARKERS.values() for m in v},
    key=len, reverse=True))))


def _glued(doc: Document) -> Document | None:
    """The crawler-text reading of a text or PDF document whose cells are glued to their labels, or None."""
    if doc.glued or doc.fmt not in ("text", "pdf") or not looks_glued(doc.text):
        return None
    return Document(doc.fmt, glued_lines(doc.text, _HEADING_ENDS), doc.text, glued=True)


def parse_bytes(data: bytes, source: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Report:
    """Parse a report from its bytes; ``source`` names it in the record and in errors.

    Raises :class:`ParseError` (and nothing else) when the bytes are not a readable
    report, or when parsing takes longer than ``timeout_s`` seconds.
    """
    start_file()
    try:
        with time_limit(timeout_s):
            doc = read_document(data)
            return _parse_best(doc, source)
    except ParseError:
        raise
    except FileTimeout as exc:
        raise ParseError(source, str(exc), ErrorKind.TIMEOUT) from None
    except MemoryError:  # over the parse worker's memory ceiling (ingestion.limits), or the machine's memory
        release_memory()
        raise ParseError(source, memory_reason(), ErrorKind.TOO_LARGE) from None
    except Exception as exc:
        if hit_ceiling():  # a reader reported a refused allocation in its own words
            release_memory()
            raise ParseError(source, memory_reason(), ErrorKind.TOO_LARGE) from None
        if isinstance(exc, FormatError):
            raise ParseError(source, str(exc), exc.kind) from None
        if isinstance(exc, RecursionError):
            raise ParseError(source, "document nested too deeply to read", ErrorKind.PARSER_ERROR) from None
        # a parser bug must not stop a run: report it against the file
        raise ParseError(source, f"internal parser error ({type(exc).__name__}: {exc})",
                         ErrorKind.PARSER_ERROR) from None


def parse_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> Report:
    """Parse one report file; the record's ``source`` is the file name.

    Files over ``max_bytes`` are refused unread, and so are text and HTML files over
    :data:`~ingestion.formats.MAX_TEXT_BYTES` (from their first bytes); parsing is cut
    off after ``timeout_s``.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise ParseError(p.name, f"file is {size / 1048576:.0f} MB, over the {max_bytes / 1048576:.0f} MB limit",
                             ErrorKind.TOO_LARGE)
        if size > MAX_TEXT_BYTES:
            fmt = sniff_format(p)
            if fmt in ("text", "html"):
                error = text_too_large(size, fmt)
                raise ParseError(p.name, str(error), error.kind)
        data = p.read_bytes()
    except FileNotFoundError:
        raise ParseError(str(path), "file not found", ErrorKind.UNREADABLE) from None
    except IsADirectoryError:
        raise ParseError(str(path), "is a directory", ErrorKind.UNREADABLE) from None
    except PermissionError:
        raise ParseError(str(path), "permission denied", ErrorKind.UNREADABLE) from None
    return parse_bytes(data, p.name, timeout_s=timeout_s)


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The files named by ``paths``, folders expanded to every file below them (sorted, hidden skipped)."""
    for path in paths:
        p = Path(path)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(p).parts):
                    yield child
        else:
            yield p
