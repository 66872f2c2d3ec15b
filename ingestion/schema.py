"""Parquet layout of parsed reports: the tables the warehouse reads, and their rows.

``reports``       one row per parsed report (report_id = sha256 of the file's bytes)
``cells``         one row per cell, long form, with the raw token and its position
``parse_errors``  one row per file that could not be parsed, with the reason and its kind

The parser's three tables are each a set of Parquet parts (:mod:`ingestion.parts`);
dbt's staging models (dbt_project/models/staging) read exactly these columns.
"""
from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from .record import ErrorKind, Report

REPORTS_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("source_file", pa.string()),
        ("format", pa.string()),
        ("agency", pa.string()),
        ("year", pa.int32()),
        ("template", pa.string()),
        ("published", pa.string()),
        ("index_number", pa.string()),
        ("division_code", pa.string()),
        ("year_source", pa.string()),  # title | statistics_period | text | published (metadata.py)
        ("agency_source", pa.string()),  # title | field
        ("warning_count", pa.int32()),
        ("warnings", pa.string()),  # JSON array of strings
        ("parser_version", pa.string()),
        ("parsed_at", pa.timestamp("us", tz="UTC")),
    ]
)

CELLS_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("table_name", pa.string()),  # applications | reviews | proactive
        ("row_key", pa.string()),
        ("col_key", pa.string()),
        ("value", pa.float64()),  # NULL = blank in the source, or unread
        ("raw", pa.string()),
        ("position", pa.string()),
        ("status", pa.string()),  # value | blank | unread | inferred (ingestion.record.Status)
        ("rule", pa.string()),  # what placed an inferred cell (ingestion.record.Rule); NULL for the others
    ]
)

PARSE_ERRORS_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("source_file", pa.string()),
        ("format", pa.string()),
        ("error", pa.string()),
        ("error_kind", pa.string()),  # ingestion.record.ErrorKind
        ("parser_version", pa.string()),
        ("parsed_at", pa.timestamp("us", tz="UTC")),
    ]
)

#: The tables the parser writes.
SCHEMAS: dict[str, pa.Schema] = {
    "reports": REPORTS_SCHEMA,
    "cells": CELLS_SCHEMA,
    "parse_errors": PARSE_ERRORS_SCHEMA,
}


def report_row(report: Report, *, report_id: str, fmt: str, parser_version: str, parsed_at: Any) -> dict[str, Any]:
    """The ``reports`` row of one parsed report."""
    return {
        "report_id": report_id,
        "source_file": report.source,
        "format": fmt,
        "agency": report.agency,
        "year": report.year,
        "template": report.template,
        "published": report.published,
        "index_number": report.index_number,
        "division_code": report.division_code,
        "year_source": report.year_source,
        "agency_source": report.agency_source,
        "warning_count": len(report.warnings),
        "warnings": json.dumps(report.warnings, ensure_ascii=False),
        "parser_version": parser_version,
        "parsed_at": parsed_at,
    }


def cell_rows(report: Report, *, report_id: str) -> list[dict[str, Any]]:
    """The ``cells`` rows of one parsed report, one per cell."""
    return [
        {
            "report_id": report_id,
            "table_name": table,
            "row_key": row,
            "col_key": col,
            "value": None if cell.value is None else float(cell.value),
            "raw": cell.raw,
            "position": cell.position,
            "status": str(cell.status),
            "rule": str(cell.rule) if cell.rule else None,
        }
        for table, row, col, cell in report.iter_cells()
    ]


def cell_columns(report: Report, *, report_id: str) -> dict[str, list[Any]]:
    """:func:`cell_rows` as columns (a third of the time; no dict per cell)."""
    tables: list[str] = []
    rows: list[str] = []
    cols: list[str] = []
    values: list[float | None] = []
    raws: list[str] = []
    positions: list[str] = []
    statuses: list[str] = []
    rules: list[str | None] = []
    for table, row, col, cell in report.iter_cells():
        tables.append(table)
        rows.append(row)
        cols.append(col)
        values.append(None if cell.value is None else float(cell.value))
        raws.append(cell.raw)
        positions.append(cell.position)
        statuses.append(str(cell.status))
        rules.append(str(cell.rule) if cell.rule else None)
    return {"report_id": [report_id] * len(tables), "table_name": tables, "row_key": rows, "col_key": cols,
            "value": values, "raw": raws, "position": positions, "status": statuses, "rule": rules}


def error_row(report_id: str, source_file: str, fmt: str, error: str, kind: ErrorKind, *, parser_version: str,
              parsed_at: Any) -> dict[str, Any]:
    """The ``parse_errors`` row of a file that could not be parsed."""
    return {
        "report_id": report_id,
        "source_file": source_file,
        "format": fmt,
        "error": error,
        "error_kind": ErrorKind(kind).value,
        "parser_version": parser_version,
        "parsed_at": parsed_at,
    }
