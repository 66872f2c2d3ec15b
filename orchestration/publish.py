"""Publishing the warehouse: dbt builds into a working file, analysts read a copy.

DuckDB lets one process write a file, and even a process that only reads it blocks
the writer: ``dbt build`` would fail while an analyst has the warehouse open. So dbt
builds ``HOME/build/warehouse.duckdb``, and a good run ends by copying it beside
``HOME/warehouse.duckdb`` and renaming it over the published file
(:func:`ingestion.atomic.copy_file_atomic`). A reader that has the old file open keeps
reading the old file (POSIX rename); the next connection sees the new one. A failed run
never reaches this step, so the published file stays as it was.

The published file is read-only on disk (mode 0444): a client that opens it read-write
by habit gets "Permission denied" instead of writing to it (root is not stopped by file
modes). A client that did write to it and died leaves its write-ahead log beside it
(``warehouse.duckdb.wal``); DuckDB would replay that log into the next file published
under the name (or refuse to open it: "WAL file … created for an older version"), so
publishing removes it, before and after the new file takes the name.
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
    wal = wal_path(target)
    wal.unlink(missing_ok=True)  # a client's log of changes to the file being replaced
    copy_file_atomic(build, target, mode=PUBLISHED_MODE)
    wal.unlink(missing_ok=True)  # written meanwhile by a client still holding the old file
    return counts


#: The published warehouse's permissions: readable by all, writable by none.
PUBLISHED_MODE = 0o444


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log of ``database``."""
    return database.with_name(database.name + ".wal")
