"""What the gate reads from the warehouse dbt built: fingerprints, its parts, the run's files.

The gate runs between dbt's two phases, on the working warehouse
(``HOME/build/warehouse.duckdb``), attached read-only to an in-memory DuckDB database
(where the frames' ENUM types can be declared) and closed straight after: DuckDB admits a
single writer, and the next dbt phase needs the file.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Iterator

import duckdb
import pandas as pd
import pyarrow as pa

from ingestion.record import NOT_PARSE_FAILURES

#: The relations the gate reads, in the attached warehouse ``wh``.
TERMS = "wh.intermediate.int_identity_terms"
CELLS = "wh.intermediate.int_current_cells"
REPORTS = "wh.intermediate.int_current_reports"
PARSE_ERRORS = "wh.staging.stg_parse_errors"

#: Text columns whose values are few (rules, scopes, row and column keys): their categories
#: are read once per gate, not once per part (each read is a scan of the whole table).
TERM_KEYS = ["rule", "severity", "table_name", "scope_kind", "scope"]

CELL_KEYS = ["table_name", "row_key", "col_key"]


#: Per report, what its verdict depends on: its parse (cells are fixed by report_id and
#: parsed_at) and its identity terms (which also carry the prior year's report, identity 5).
FINGERPRINTS_SQL = f"""
select r.report_id,
       hash(r.report_id, coalesce(cast(r.parsed_at as varchar), ''), coalesce(t.terms, 0)) as fingerprint
from {REPORTS} as r
left join (
    select report_id, bit_xor(hash(rule, severity, scope_kind, scope, lhs, rhs, residual, cells)) as terms
    from {TERMS}
    group by report_id
) as t using (report_id)
"""

def _categorical_frame(con: duckdb.DuckDBPyConnection, relation: str, categories: dict[str, str],
                       other_columns: list[str], ids: pd.Index) -> pd.DataFrame:
    """The rows of ``relation`` of the reports ``ids`` (the registered table ``part_ids``) as
    a pandas frame whose text columns are categoricals.

    At a national scale the cells are 30M rows: as Python strings their report ids
    alone would take gigabytes; as categoricals they take 4 bytes a row.  The report
    id comes from the join with ``part_ids`` as its position in ``ids`` (no string is
    converted); the other text columns are cast to DuckDB ENUMs, whose values
    ``categories`` gives as a query per column (one column, distinct, no nulls).  The
    ENUM types are dropped again, so the same relation can be read once per part.
    """
    selects, types = [], []
    prefix = relation.rsplit(".", 1)[-1]
    for column, values in categories.items():
        type_name = f"ogi_{prefix}_{column}"
        con.execute(f"drop type if exists {type_name}")
        con.execute(f"create type {type_name} as enum ({values})")
        selects.append(f"cast(t.{column} as {type_name}) as {column}")
        types.append(type_name)
    selects += [f"t.{c}" for c in other_columns]
    # through Arrow: ENUMs arrive as dictionary arrays, which become categoricals without a copy
    # of their values (and faster than .df() for the numeric columns too)
    table = con.sql(f"select p.code as report_code, {', '.join(selects)} "
                    f"from {relation} as t join part_ids as p on t.report_id = p.report_id").to_arrow_table()
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    for type_name in types:
        con.execute(f"drop type {type_name}")
    codes = frame.pop("report_code").to_numpy()
    frame.insert(0, "report_id", pd.Categorical.from_codes(codes, categories=ids))
    return frame


def parts(con: duckdb.DuckDBPyConnection, judge: list[str], size: int
          ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The terms and cells of ``judge``, ``size`` reports at a time (the gate's memory bound).

    Per part the warehouse is scanned three times: the part's identity-term texts (the
    only many-valued text besides the report id, which comes from the join), its terms
    and its cells.
    """
    if not judge:
        return
    for name, relation, columns in (("gate_term_keys", TERMS, TERM_KEYS), ("gate_cell_keys", CELLS, CELL_KEYS)):
        con.execute(f"create or replace temp table {name} as select distinct {', '.join(columns)} from {relation}")
    # (both tables have a table_name column: one set of categories each)
    term_keys = {c: f"select distinct {c} from gate_term_keys where {c} is not null" for c in TERM_KEYS}
    cell_keys = {c: f"select distinct {c} from gate_cell_keys where {c} is not null" for c in CELL_KEYS}
    in_part = "report_id in (select report_id from part_ids)"
    for start in range(0, len(judge), max(size, 1)):
        ids = judge[start:start + size]
        con.register("part_ids", pa.table({"report_id": pa.array(ids, pa.string()),
                                           "code": pa.array(range(len(ids)), pa.int32())}))
        try:
            id_index = pd.Index(ids, dtype="str")  # one set of categories for both frames
            terms = _categorical_frame(
                con, TERMS,
                {**term_keys,
                 "cells": f"select distinct cells from {TERMS} where cells is not null and {in_part}"},
                ["lhs", "rhs", "residual"], id_index)
            cells = _categorical_frame(con, CELLS, cell_keys, ["value"], id_index)
        finally:
            con.unregister("part_ids")
        yield terms, cells
        del terms, cells


def sql_identities(con: duckdb.DuckDBPyConnection, judge: list[str]) -> tuple[int, float]:
    """The same identity judgement as one plain DuckDB query over the same reports (the benchmark's yardstick)."""
    started = time.perf_counter()
    con.register("judged_ids", pa.table({"report_id": pa.array(judge, pa.string())}))
    [(violations,)] = con.execute(
        f"select count(*) from {TERMS} "
        "where report_id in (select report_id from judged_ids) and abs(lhs - rhs) > 1e-9").fetchall()
    con.unregister("judged_ids")
    return int(violations), time.perf_counter() - started


def run_share_frames(reports: pd.DataFrame, errors: pd.DataFrame, run_started: datetime | None,
                     min_run_files: int) -> tuple[pd.DataFrame, int, str]:
    """The reports and parse-failure count the run-level shares are judged over, and what they cover.

    Files that are no readable report at all (empty, binary, images, encrypted, too large:
    ``error_kind`` in :data:`ingestion.record.NOT_PARSE_FAILURES`) are listed in parse_errors
    but are no sign of a parser regression, so they are not counted as parse failures.
    """
    if len(errors):
        errors = errors[~errors["error_kind"].isin([k.value for k in NOT_PARSE_FAILURES])]
    if run_started is not None and "parsed_at" in reports.columns:
        since = pd.Timestamp(run_started)
        new_reports = reports[pd.to_datetime(reports["parsed_at"], utc=True) >= since]
        new_errors = int((pd.to_datetime(errors["parsed_at"], utc=True) >= since).sum()) if len(errors) else 0
        if len(new_reports) + new_errors >= min_run_files:
            return new_reports, new_errors, "this run's files"
    return reports, len(errors), "the whole warehouse"


def fingerprints(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """report_id, fingerprint of every current report (:data:`FINGERPRINTS_SQL`)."""
    return con.execute(FINGERPRINTS_SQL).df()


def current_reports(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The current reports: report_id, source_file, agency, agency_id (the body), year, parsed_at."""
    return con.execute(f"select report_id, source_file, agency, agency_id, year, parsed_at from {REPORTS}").df()


def parse_errors(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every file that could not be parsed (the staging model of parse_errors)."""
    return con.execute(f"select * from {PARSE_ERRORS}").df()
