"""The canonical report record (docs/REPORT_JSON.md) and its provenance; why a file has none."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterator, NamedTuple

Number = int | float


class Status(StrEnum):
    """What the parser knows of one cell of the form."""

    #: a number read from the cell
    VALUE = "value"
    #: the source prints the cell empty, or with a blank marker (``/``, ``-``, ``—``, ``无``)
    BLANK = "blank"
    #: the parser could not place a value in this cell with certainty: never a guess, and
    #: never the same fact as a blank cell
    UNREAD = "unread"
    #: placed by a rule rather than read from a separated cell (e.g. a run of digits split
    #: into cells because exactly one split fits the row's printed total)
    INFERRED = "inferred"


class Rule(StrEnum):
    """The rule that placed an :attr:`Status.INFERRED` cell (the ``rule`` of its :class:`Cell`).

    A rule that chose the cells by an accounting identity makes that identity hold by
    construction: the quality gate must not count it as evidence that the report adds up.
    """

    #: a run of digits split into the row's cells the one way its printed total allows
    #: (table 3: the six applicant cells sum to the total; table 4: each block's results sum
    #: to its total): identities 3 and 4 hold on the row by construction
    ROW_TOTAL = "split_by_row_total"
    #: as ROW_TOTAL, where the row alone left several splits and the column identities of
    #: table 3 (1 and 2) left one: identities 1 to 3 hold on the table by construction
    COLUMN_IDENTITIES = "split_by_column_identities"
    #: a run of digits with exactly one split into the row's cells, whatever the values (table
    #: 2, "000" into three cells): no identity used
    ONLY_SPLIT = "only_split"
    #: a value a PDF converter pulled out of its row together with a note (``| 规章 | 5 |  | 130 |``
    #: then ``3（含修订 2 件）``), put back in the row's one empty cell: no identity used
    MOVED_WITH_NOTE = "moved_with_note"


class Cell(NamedTuple):
    """One parsed cell: its value (None = blank or unread), the raw token, where it stood, its status,
    and for an inferred cell the :class:`Rule` that placed it ("" for every other cell).

    ``position`` is human-readable and points into the source: ``"line 84"`` for
    text layouts, ``"table 2 row 5 col 3"`` for HTML and Word tables, ``"page 3
    line 12"`` for PDFs.
    """

    value: Number | None
    raw: str
    position: str
    status: str = Status.VALUE
    rule: str = ""


def read_cell(value: Number | None, position: str = "") -> Cell:
    """A cell read from the source: ``value``, or blank when it is None."""
    if value is None:
        return Cell(None, "", position, Status.BLANK)
    return Cell(value, str(value), position, Status.VALUE)


#: A cell the parser could not place (its row was not found, or its token is no value of the cell).
UNREAD = Cell(None, "", "", Status.UNREAD)
#: A cell the source prints empty, with nothing to point at (a row printed without cells).
EMPTY = Cell(None, "", "", Status.BLANK)


@dataclass
class Report:
    """A parsed annual report: the contract's keys plus metadata and provenance."""

    source: str
    agency: str | None
    year: int | None
    template: str
    applications: dict[str, list[Cell]]
    reviews: dict[str, list[Cell]]
    proactive: dict[str, dict[str, Cell]]
    published: str | None = None
    index_number: str | None = None
    division_code: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: where the year was found: title, statistics_period, text or published (None: not found)
    year_source: str | None = None
    #: where the agency was found: title or field (a 发布机构 / 发文机关 line; None: not found)
    agency_source: str | None = None

    def to_json(self, provenance: bool = False) -> dict[str, Any]:
        """The contract's JSON object; with ``provenance`` also each cell's raw token and position."""
        out: dict[str, Any] = {
            "source": self.source,
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "applications": {k: [c.value for c in row] for k, row in self.applications.items()},
            "reviews": {k: [c.value for c in row] for k, row in self.reviews.items()},
            "proactive": {k: {f: c.value for f, c in d.items()} for k, d in self.proactive.items()},
        }
        for key in ("published", "index_number", "division_code", "year_source", "agency_source"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["unread"] = self.cell_keys(Status.UNREAD)
        out["inferred"] = self.cell_keys(Status.INFERRED)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if provenance:
            out["provenance"] = [
                {"table": t, "row": r, "col": c, "raw": cell.raw, "position": cell.position, "status": cell.status,
                 **({"rule": cell.rule} if cell.rule else {})}
                for t, r, c, cell in self.iter_cells()
            ]
        return out

    def cell_keys(self, status: str) -> list[str]:
        """The keys (``table.row.col``) of the cells with ``status``, in contract order."""
        return [f"{t}.{r}.{c}" for t, r, c, cell in self.iter_cells() if cell.status == status]

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "Report":
        """A record from its contract JSON (e.g. a golden file); provenance is left empty.

        A null cell is blank unless the record lists it as ``unread``.
        """
        unread = set(obj.get("unread", ()))
        inferred = set(obj.get("inferred", ()))

        def cell(key: str, v: Number | None) -> Cell:
            if key in unread:
                return UNREAD
            cell = read_cell(v)
            return cell._replace(status=Status.INFERRED) if key in inferred else cell

        from .templates import APPLICANT_COLUMNS, REVIEW_COLUMNS

        def row(table: str, key: str, values: list[Number | None], cols: tuple[str, ...]) -> list[Cell]:
            return [cell(f"{table}.{key}.{c}", v) for c, v in zip(cols, values)]

        return cls(
            source=obj["source"],
            agency=obj.get("agency"),
            year=obj.get("year"),
            template=obj["template"],
            applications={k: row("applications", k, v, APPLICANT_COLUMNS)
                          for k, v in obj.get("applications", {}).items()},
            reviews={k: row("reviews", k, v, REVIEW_COLUMNS) for k, v in obj.get("reviews", {}).items()},
            proactive={k: {f: cell(f"proactive.{k}.{f}", v) for f, v in d.items()}
                       for k, d in obj.get("proactive", {}).items()},
            published=obj.get("published"),
            index_number=obj.get("index_number"),
            division_code=obj.get("division_code"),
            warnings=list(obj.get("warnings", [])),
            year_source=obj.get("year_source"),
            agency_source=obj.get("agency_source"),
        )

    def iter_cells(self) -> Iterator[tuple[str, str, str, Cell]]:
        """Every cell as (table, row_key, col_key, cell), tables in contract order."""
        from .templates import APPLICANT_COLUMNS, REVIEW_COLUMNS

        # built as a list (a report holds a few hundred cells): twice as quick as a generator
        cells = [("applications", row_key, col, cell)
                 for row_key, row in self.applications.items() for col, cell in zip(APPLICANT_COLUMNS, row)]
        cells += [("reviews", row_key, col, cell)
                  for row_key, row in self.reviews.items() for col, cell in zip(REVIEW_COLUMNS, row)]
        cells += [("proactive", row_key, col, cell)
                  for row_key, fields in self.proactive.items() for col, cell in fields.items()]
        return iter(cells)


class ErrorKind(StrEnum):
    """Why a file could not be turned into a record, as a category (the message says the rest).

    Stored with every parse error (``parse_errors.error_kind``). The quality gate counts
    only some kinds as parse failures (:attr:`counts_as_parse_failure`).
    """

    #: not a report file the parser can read at all: empty, binary, an image or a scan that
    #: needs OCR, legacy Word, an encrypted or broken PDF or Word file, a ZIP archive, text
    #: in an unknown encoding, HTML that cannot be read; or not there (not found, no
    #: permission, a folder)
    UNREADABLE = "unreadable"
    #: over a limit on size, PDF pages or how far a Word file expands
    TOO_LARGE = "too_large"
    #: read, but no table 3 in it: not an annual report
    NOT_A_REPORT = "not_a_report"
    #: table 3 found, but too many of its rows missing to make a record
    INCOMPLETE_TABLE = "incomplete_table"
    #: parsing took longer than the time limit
    TIMEOUT = "timeout"
    #: the parser failed: an internal error, a document nested too deeply, out of memory
    PARSER_ERROR = "parser_error"
    #: the worker process parsing the file died (a crash, or killed for its memory)
    WORKER_DIED = "worker_died"

    @property
    def counts_as_parse_failure(self) -> bool:
        """Whether the quality gate counts this error as a parse failure (a sign the parser
        regressed): every kind but a file that is no readable report at all, or too large
        to read (:data:`NOT_PARSE_FAILURES`). A folder of junk is not a parser regression."""
        return self not in NOT_PARSE_FAILURES


#: The kinds of parse error the quality gate does not count as parse failures.
NOT_PARSE_FAILURES: frozenset[ErrorKind] = frozenset({ErrorKind.UNREADABLE, ErrorKind.TOO_LARGE})


class ParseError(Exception):
    """A file that cannot be turned into a record; the message names the file and what is wrong,
    ``kind`` (:class:`ErrorKind`) says what sort of failure it is."""

    def __init__(self, source: str, message: str, kind: ErrorKind) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = message
        self.kind = ErrorKind(kind)

    def __reduce__(self) -> tuple:  # picklable: it may cross from a worker process
        return type(self), (self.source, self.reason, self.kind)
