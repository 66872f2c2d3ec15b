"""Publishing the warehouse: dbt builds into a working file, analysts read a copy.

DuckDB lets one process write a file, and even a process that only reads it blocks
the writer: ``dbt build`` would fail while an analyst has the warehouse open. So dbt
builds ``HOME/build/warehouse.duckdb``, and a good run ends by copying it beside
``HOME/warehouse.duckdb`` and renaming it over the published file
(:func:`ingestion.atomic.copy_file_atomic`). A reader that has the old file open keeps
reading the old file (POSIX rename); the next connection sees the new one. A failed run
never reaches this step, so the published file stays as it was.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.atomic import copy_file_atomic, remove_temp_files


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``schema.table`` -> row count of every base table (views are left out)."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where not internal order by 1, 2"
    ).fetchall()
    return {
        f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        for schema, table in tables
    }


def publish_warehouse(build: Path, target: Path) -> dict[str, int]:
    """Replace ``target`` with a copy of ``build``, atomically; the row count of each table."""
    if not build.exists():
        raise FileNotFoundError(f"no built warehouse at {build}")
    con = duckdb.connect(str(build))  # the working file: nobody else may hold it
    try:
        con.execute("CHECKPOINT")  # everything in the file, nothing left in a .wal
        counts = table_counts(con)
    finally:
        con.close()
    remove_temp_files(target.parent, lambda final: final == target.name)  # copies a crash left
    copy_file_atomic(build, target)
    return counts
