"""``ogi sql`` and ``ogi export``: the published warehouse for analysts, with nothing else installed.

``ogi sql`` runs a query on ``HOME/warehouse.duckdb`` opened read-only (the ``marts`` schema
first on the search path) and prints a table, CSV or JSON Lines.  ``ogi export`` writes every
table of the ``marts`` schema to a folder as CSV, Excel (``.xlsx``, openpyxl) or Parquet, with
what each table and column means, taken from the dbt project's documentation
(``dbt_project/models/marts/**/*.yml``): ``tables.csv`` and ``columns.csv`` beside the data,
a ``columns`` sheet in each workbook, and the descriptions in each Parquet file's metadata.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from . import paths

FORMATS = ("csv", "xlsx", "parquet")
#: Rows an Excel sheet holds (the header takes one): larger tables go on to further sheets.
XLSX_MAX_ROWS = 1_048_575
FETCH_ROWS = 10_000


class NoWarehouse(LookupError):
    """The home has no published warehouse yet."""


def connect(p: paths.Paths):
    """The published warehouse, read-only, with ``marts`` first on the search path."""
    import duckdb

    if not p.warehouse.exists():
        raise NoWarehouse(f"no published warehouse in {p.home} yet: `ogi run` builds one "
                          f"(when the quality gate blocked the first run, `ogi issues` says why)")
    con = duckdb.connect(str(p.warehouse), read_only=True)
    con.execute("set search_path = 'marts,main'")
    return con


@dataclass
class Result:
    columns: list[str]
    types: list[str]
    rows: Iterator[tuple]


def query(con, sql: str) -> Result:
    """Run ``sql``; the rows are fetched as they are read."""
    cursor = con.execute(sql)
    description = cursor.description or []

    def rows() -> Iterator[tuple]:
        while True:
            batch = cursor.fetchmany(FETCH_ROWS)
            if not batch:
                return
            yield from batch

    return Result([d[0] for d in description], [str(d[1]) for d in description], rows())


def jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- documentation


@dataclass
class TableDoc:
    name: str
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)


def marts_docs(project_dir: Path = paths.DBT_PROJECT_DIR) -> dict[str, TableDoc]:
    """Table and column descriptions of the marts, from the dbt project's yml files."""
    import yaml

    docs: dict[str, TableDoc] = {}
    for yml in sorted((project_dir / "models" / "marts").rglob("*.yml")):
        data = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        for model in data.get("models") or []:
            doc = TableDoc(model["name"], " ".join(str(model.get("description") or "").split()))
            for column in model.get("columns") or []:
                doc.columns[column["name"]] = " ".join(str(column.get("description") or "").split())
            docs[doc.name] = doc
    return docs


# --------------------------------------------------------------------------- export


@dataclass
class Exported:
    table: str
    rows: int
    files: list[Path]


def marts_tables(con) -> list[str]:
    return [t for (t,) in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts' and not internal order by 1").fetchall()]


def export(p: paths.Paths, out: Path, fmt: str, tables: list[str] | None = None) -> list[Exported]:
    """Write the marts tables (or ``tables``) of the published warehouse to ``out`` as ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    docs = marts_docs()
    con = connect(p)
    try:
        available = marts_tables(con)
        chosen = tables or available
        unknown = [t for t in chosen if t not in available]
        if unknown:
            raise ValueError(f"no table {', '.join(unknown)} in marts (there are: {', '.join(available)})")
        done: list[Exported] = []
        column_rows: list[list[Any]] = []
        for table in chosen:
            doc = docs.get(table, TableDoc(table))
            described = con.execute(f'describe marts."{table}"').fetchall()
            columns = [(name, str(kind), doc.columns.get(name, "")) for name, kind, *_ in described]
            column_rows += [[table, name, kind, text] for name, kind, text in columns]
            writer = {"csv": _csv, "xlsx": _xlsx, "parquet": _parquet}[fmt]
            done.append(writer(con, table, doc, columns, out))
        _write_csv(out / "tables.csv", ["table", "rows", "description"],
                   [[e.table, e.rows, docs.get(e.table, TableDoc(e.table)).description] for e in done])
        _write_csv(out / "columns.csv", ["table", "column", "type", "description"], column_rows)
        return done
    finally:
        con.close()


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _count(con, table: str) -> int:
    return con.execute(f'select count(*) from marts."{table}"').fetchone()[0]


def _csv(con, table: str, doc: TableDoc, columns, out: Path) -> Exported:
    target = out / f"{table}.csv"
    con.execute(f"copy (select * from marts.\"{table}\") to '{_sql_text(target)}' (header, delimiter ',')")
    return Exported(table, _count(con, table), [target])


def _parquet(con, table: str, doc: TableDoc, columns, out: Path) -> Exported:
    target = out / f"{table}.parquet"
    meta = json.dumps({"table": table, "description": doc.description,
                       "columns": {name: text for name, _, text in columns}}, ensure_ascii=False)
    con.execute(f"copy (select * from marts.\"{table}\") to '{_sql_text(target)}' "
                f"(format parquet, kv_metadata {{ogi_docs: '{_sql_text(meta)}'}})")
    return Exported(table, _count(con, table), [target])


def _cell(value: Any) -> Any:
    """A value Excel can hold (no time zones, no decimals, no lists)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    if isinstance(value, (dt.timedelta, bytes)):
        return str(jsonable(value))
    return value


def _xlsx(con, table: str, doc: TableDoc, columns, out: Path) -> Exported:
    from openpyxl import Workbook

    target = out / f"{table}.xlsx"
    wb = Workbook(write_only=True)
    about = wb.create_sheet("columns")
    about.append(["table", table])
    about.append(["description", doc.description])
    about.append([])
    about.append(["column", "type", "description"])
    for name, kind, text in columns:
        about.append([name, kind, text])
    header = [name for name, _, _ in columns]
    result = query(con, f'select * from marts."{table}"')
    sheet, in_sheet, rows, sheets = None, XLSX_MAX_ROWS, 0, 0
    for row in result.rows:
        if in_sheet >= XLSX_MAX_ROWS:
            sheets += 1
            sheet = wb.create_sheet(table[:25] if sheets == 1 else f"{table[:25]} ({sheets})", sheets - 1)
            sheet.append(header)
            in_sheet = 0
        sheet.append([_cell(v) for v in row])
        in_sheet += 1
        rows += 1
    if sheet is None:
        wb.create_sheet(table[:25], 0).append(header)
    wb.save(target)
    return Exported(table, rows, [target])


def _sql_text(value: Any) -> str:
    return str(value).replace("'", "''")
