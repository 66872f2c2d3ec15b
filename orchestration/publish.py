"""Publishing the warehouse: dbt builds into a working file, analysts read a copy.

DuckDB admits one writer, and even a read-only reader makes ``dbt build`` fail on the
lock (STACK_NOTES P20). So dbt builds ``HOME/build/warehouse.duckdb``, and a good run
ends by copying it beside ``HOME/warehouse.duckdb`` and renaming it over the published
file. A reader that has the old file open keeps reading the old file (POSIX rename);
the next connection sees the new one. A failed run never reaches this step, so the
published file stays as it was.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb


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
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(build, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return counts
