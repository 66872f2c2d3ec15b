"""The quality gate between the intermediate models and the marts.

It reads what the pre-gate dbt build made (``int_identity_terms``, ``stg_cells``)
into pandas frames and lets Great Expectations judge every identity term and
cell (expectations/gate.py).  Its findings go to
``HOME/parquet/quality_issues.parquet``, which the marts read through the dbt
source ``quality.quality_issues`` to hold broken reports out of the certified
facts.  Its run-level verdict is a blocking asset check: when something systemic
is wrong (too many parse failures or quarantines, a schema expectation failing)
the marts are not rebuilt and the published warehouse stays as it was.  Each run
with new issues or a failed gate sends one alert (alerts.jsonl, and the webhook
``OGI_ALERT_WEBHOOK`` when set) — from inside the asset, so scheduled and sensor
runs alert as well as ``ogi run``.

The asset is made by :func:`quality_issues_asset` in the dbt factory (defs/dbt.py),
which knows the dbt model's asset key from the manifest.
"""

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.atomic import write_parquet_atomic
from ingestion.schema import QUALITY_ISSUES_SCHEMA
from orchestration import paths

#: The intermediate dbt model the gate checks; defs/dbt.py finds its asset key in the manifest.
IDENTITY_TERMS_MODEL = "int_identity_terms"
QUALITY_ISSUES = dg.AssetKey(["quality", "quality_issues"])
#: Below this many files in a run, the run-level shares are judged over the whole
#: warehouse instead (3 broken files out of 3 new ones are not a systemic failure).
MIN_RUN_FILES = int(os.environ.get("OGI_GATE_MIN_RUN_FILES", "10"))
#: What makes an issue "the same" from one run to the next (alerts name only new ones).
ISSUE_KEY = ["report_id", "rule", "scope_kind", "scope"]
#: Reports validated per part of the gate (env OGI_GATE_CHUNK_REPORTS): bounds its memory
#: (~1 GB per 40,000 reports: frames, GE's copies of batch columns, DuckDB's reads;
#: 60,000 measured 3.6 GB against 2.4 GB for the whole gate at 150,000 reports).
DEFAULT_CHUNK_REPORTS = 40_000
#: The gate's state: the fingerprint each current report was last judged with.
JUDGED_TABLE = "quality_judged"


@dataclass
class GateOutcome:
    """What one gate run produced: GE's result, the frames it judged, and timings."""

    result: Any  # expectations.gate.GateResult
    reports: pd.DataFrame
    table: pa.Table
    new_issues: pd.DataFrame
    gate_s: float
    sql_s: float
    sql_violations: int
    judged: pa.Table  # report_id, fingerprint, judged_with of every current report
    judged_count: int = 0  # reports validated by this run
    scope: str = "everything"


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


#: Per report, what its verdict depends on: its parse (cells are fixed by report_id and
#: parsed_at) and its identity terms (which also carry the prior year's report, identity 5).
FINGERPRINTS_SQL = """
select r.report_id,
       hash(r.report_id, coalesce(cast(r.parsed_at as varchar), ''), coalesce(t.terms, 0)) as fingerprint
from wh.intermediate.int_current_reports as r
left join (
    select report_id, bit_xor(hash(rule, severity, scope_kind, scope, lhs, rhs, residual, cells)) as terms
    from wh.intermediate.int_identity_terms
    group by report_id
) as t using (report_id)
"""


@dataclass
class GateScope:
    """What this run's gate judges, and what it carries from earlier runs."""

    fingerprints: pd.DataFrame  # report_id, fingerprint of every current report
    judge: list[str]  # report ids to validate, sorted
    carried: pd.DataFrame  # earlier issues of the current reports not judged again
    why: str  # "everything" (first run, another gate, OGI_GATE_FULL) or "changed reports"


def _scope(con: duckdb.DuckDBPyConnection, p: paths.Paths, judged_with: str,
           previous: pd.DataFrame | None) -> GateScope:
    """The reports whose fingerprint differs from the one they were last judged with.

    The state (``HOME/parquet/quality_judged.parquet``: report_id, fingerprint,
    judged_with) is written only after a gate that passed; it is dropped
    (everything judged again) when the gate changed (``judged_with``:
    :func:`expectations.gate.judgement_fingerprint`), when quality_issues is
    missing (``previous`` is None), or with ``OGI_GATE_FULL=1``.
    """
    fingerprints = con.execute(FINGERPRINTS_SQL).df()
    state_path = p.table(JUDGED_TABLE)
    state = None
    if state_path.exists() and previous is not None and os.environ.get("OGI_GATE_FULL", "") in ("", "0"):
        state = pq.read_table(state_path).to_pandas()
        if "judged_with" not in state.columns or (len(state) and set(state["judged_with"]) != {judged_with}):
            state = None
    if state is None:
        return GateScope(fingerprints, sorted(fingerprints["report_id"]), _no_issues(), "everything")
    same = fingerprints.merge(state[["report_id", "fingerprint"]], on=["report_id", "fingerprint"], how="inner")
    unchanged = set(same["report_id"])
    judge = sorted(set(fingerprints["report_id"]) - unchanged)
    carried = previous[previous["report_id"].isin(unchanged)].reset_index(drop=True)
    return GateScope(fingerprints, judge, carried, "changed reports")


def chunk_reports() -> int:
    """Reports per part of the gate: env ``OGI_GATE_CHUNK_REPORTS``, else 40,000."""
    raw = os.environ.get("OGI_GATE_CHUNK_REPORTS", "").strip()
    return max(int(raw), 1) if raw.isdigit() else DEFAULT_CHUNK_REPORTS


def _no_issues() -> pd.DataFrame:
    return QUALITY_ISSUES_SCHEMA.empty_table().to_pandas()


TERMS = "wh.intermediate.int_identity_terms"
CELLS = "wh.intermediate.int_current_cells"
#: Text columns whose values are few (rules, scopes, row and column keys): their categories
#: are read once per gate, not once per part (each read is a scan of the whole table).
TERM_KEYS = ["rule", "severity", "scope_kind", "scope"]
CELL_KEYS = ["table_name", "row_key", "col_key"]


def _parts(con: duckdb.DuckDBPyConnection, judge: list[str], size: int
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
    keys = {**{c: f"select distinct {c} from gate_term_keys where {c} is not null" for c in TERM_KEYS},
            **{c: f"select distinct {c} from gate_cell_keys where {c} is not null" for c in CELL_KEYS}}
    in_part = "report_id in (select report_id from part_ids)"
    for start in range(0, len(judge), max(size, 1)):
        ids = judge[start:start + size]
        con.register("part_ids", pa.table({"report_id": pa.array(ids, pa.string()),
                                           "code": pa.array(range(len(ids)), pa.int32())}))
        try:
            id_index = pd.Index(ids, dtype="str")  # one set of categories for both frames
            terms = _categorical_frame(
                con, TERMS,
                {**{c: keys[c] for c in TERM_KEYS},
                 "cells": f"select distinct cells from {TERMS} where cells is not null and {in_part}"},
                ["lhs", "rhs", "residual"], id_index)
            cells = _categorical_frame(con, CELLS, {c: keys[c] for c in CELL_KEYS}, ["value"], id_index)
        finally:
            con.unregister("part_ids")
        yield terms, cells
        del terms, cells


def _sql_identities(con: duckdb.DuckDBPyConnection, judge: list[str]) -> tuple[int, float]:
    """The same identity judgement as one plain DuckDB query over the same reports (the benchmark's yardstick)."""
    started = time.perf_counter()
    con.register("judged_ids", pa.table({"report_id": pa.array(judge, pa.string())}))
    [(violations,)] = con.execute(
        "select count(*) from wh.intermediate.int_identity_terms "
        "where report_id in (select report_id from judged_ids) and abs(lhs - rhs) > 1e-9").fetchall()
    con.unregister("judged_ids")
    return int(violations), time.perf_counter() - started


def _run_share_frames(reports: pd.DataFrame, errors: pd.DataFrame, run_started: datetime | None
                      ) -> tuple[pd.DataFrame, int, str]:
    """The reports and parse-failure count the run-level shares are judged over, and what they cover.

    Files that are no readable report at all (empty, binary, images, encrypted, too large:
    ``error_kind`` in :data:`ingestion.record.NOT_PARSE_FAILURES`) are listed in parse_errors
    but are no sign of a parser regression, so they are not counted as parse failures.
    """
    from ingestion.record import NOT_PARSE_FAILURES

    if len(errors):
        errors = errors[~errors["error_kind"].isin([k.value for k in NOT_PARSE_FAILURES])]
    if run_started is not None and "parsed_at" in reports.columns:
        since = pd.Timestamp(run_started)
        new_reports = reports[pd.to_datetime(reports["parsed_at"], utc=True) >= since]
        new_errors = int((pd.to_datetime(errors["parsed_at"], utc=True) >= since).sum()) if len(errors) else 0
        if len(new_reports) + new_errors >= MIN_RUN_FILES:
            return new_reports, new_errors, "this run's files"
    return reports, len(errors), "the whole warehouse"


def run_quality_gate(p: paths.Paths, run_id: str, run_started: datetime | None = None) -> GateOutcome:
    """Run the Great Expectations gate on what changed, and work out which issues are new.

    Only current reports (not versions superseded in the inbox) are judged, and of
    those only the ones whose fingerprint changed since the last gate that passed
    (:func:`_scope`): the others keep their issues.  They are validated
    ``OGI_GATE_CHUNK_REPORTS`` reports at a time (:func:`_parts`).  The build
    warehouse is attached read-only to an in-memory database, where the frames'
    categorical types can be declared, and closed afterwards (P20).
    """
    from expectations.gate import issues_table, judgement_fingerprint, run_gate_parts  # GE: lazily (P15)

    started = time.perf_counter()
    # the last run's findings: carried for unchanged reports, and what makes an issue new
    previous_path = p.table("quality_issues")
    previous = pq.read_table(previous_path).to_pandas() if previous_path.exists() else None
    con = duckdb.connect()
    try:
        con.execute(f"attach '{p.build_warehouse}' as wh (read_only)")
        judged_with = judgement_fingerprint()
        scope = _scope(con, p, judged_with, previous)
        reports = con.execute(
            "select report_id, source_file, agency, year, parsed_at from wh.intermediate.int_current_reports"
        ).df()
        errors = con.execute("select * from wh.staging.stg_parse_errors").df()
        share_reports, share_errors, _ = _run_share_frames(reports, errors, run_started)
        result = run_gate_parts(
            _parts(con, scope.judge, chunk_reports()),
            reports=share_reports,
            parse_error_count=share_errors,
            file_count=len(share_reports) + share_errors,
            docs_dir=p.home / "quality",
            run_name=run_id,
            carried_issues=scope.carried,
        )
        gate_s = time.perf_counter() - started
        sql_violations, sql_s = _sql_identities(con, scope.judge)
    finally:
        con.close()
    _release_memory()
    issues = result.issues
    if previous is not None and len(issues):
        seen_before = (previous[[*ISSUE_KEY, "checked_at"]].astype({k: str for k in ISSUE_KEY})
                       .drop_duplicates(ISSUE_KEY))
        merged = issues[ISSUE_KEY].astype(str).merge(seen_before, how="left", on=ISSUE_KEY)
        seen = merged["checked_at"].notna().to_numpy()
        new_issues = issues[~seen]
        # an issue found before keeps the time it was first found: an unchanged warehouse
        # gives an unchanged quality_issues table
        first_found = pd.to_datetime(merged["checked_at"], utc=True).to_numpy()
        issues = issues.assign(checked_at=pd.Series(
            [f if s else c for f, s, c in zip(first_found, seen, issues["checked_at"].to_numpy())],
            index=issues.index).astype(issues["checked_at"].dtype))
        result.issues = issues
    else:
        new_issues = issues
    table = issues_table(issues).select(QUALITY_ISSUES_SCHEMA.names).cast(QUALITY_ISSUES_SCHEMA)
    judged = pa.table({
        "report_id": pa.array(scope.fingerprints["report_id"], pa.string()),
        "fingerprint": pa.array(scope.fingerprints["fingerprint"].astype("uint64"), pa.uint64()),
        "judged_with": pa.array([judged_with] * len(scope.fingerprints), pa.string()),
    })
    return GateOutcome(result, reports, table, new_issues, gate_s, sql_s, sql_violations,
                       judged=judged, judged_count=len(scope.judge), scope=scope.why)


def write_outcome(outcome: GateOutcome, p: paths.Paths) -> None:
    """quality_issues, then (only when the gate passed) the fingerprints it judged.

    In this order, a crash between the two writes means more work next time, never a
    stale verdict; a failed gate leaves the state as it was, so the next run judges
    the same reports again.
    """
    write_parquet_atomic(outcome.table, p.table("quality_issues"))
    if outcome.result.passed:
        write_parquet_atomic(outcome.judged, p.table(JUDGED_TABLE))


def _release_memory() -> None:
    """Hand the gate's freed frames back to the OS before the marts' dbt build starts."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused by this process instead
        pass


def alert_for(outcome: GateOutcome, run_id: str, home: Any) -> dict[str, Any] | None:
    """Send the run's alert when it has new issues or a failed gate; returns the alert sent, if any."""
    from expectations.alerts import build_alert, send_alert

    result = outcome.result
    if result.passed and outcome.new_issues.empty:
        return None
    alert = build_alert(run_id, outcome.new_issues, result.failures, outcome.reports,
                        stats=result.stats, docs_index=result.docs_index)
    alert["total_issue_count"] = int(len(result.issues))
    send_alert(alert, home)
    return alert


def quality_issues_asset(identity_terms: dg.AssetKey) -> dg.AssetsDefinition:
    """The gate asset, downstream of the dbt model ``identity_terms`` (built with the dbt assets)."""
    from expectations.dagster_adapter import gate_check_specs

    @dg.asset(
        key=QUALITY_ISSUES,
        deps=[identity_terms],
        group_name="quality",
        kinds={"python", "parquet"},
        check_specs=gate_check_specs(QUALITY_ISSUES),
        description=(
            "Accounting-identity and value findings per report, judged by Great Expectations "
            "(HOME/parquet/quality_issues.parquet), read by the marts. Blocking check quality_gate "
            "stops the marts when the run as a whole is bad."
        ),
    )
    def quality_issues(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        from expectations.dagster_adapter import to_asset_check_results

        p = paths.current().make_dirs()
        record = context.instance.get_run_record_by_id(context.run.run_id)
        started = record.start_time if record is not None and record.start_time else None
        run_started = datetime.fromtimestamp(started, tz=timezone.utc) if started else None
        outcome = run_quality_gate(p, context.run.run_id, run_started)
        write_outcome(outcome, p)
        result = outcome.result
        alert = alert_for(outcome, context.run.run_id, p.home)
        context.log.info(
            f"quality gate {'passed' if result.passed else 'FAILED'}: {len(result.issues)} issues "
            f"({len(outcome.new_issues)} new), {len(result.decertified)} reports quarantined; "
            f"{outcome.judged_count} reports judged ({outcome.scope}), the others' issues carried; "
            f"{outcome.gate_s:.2f} s (plain SQL {outcome.sql_s:.3f} s)"
        )
        for reason in result.failures:
            context.log.error(f"quality gate: {reason}")
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(result.issues),
                "new_issues": len(outcome.new_issues),
                "quarantined_reports": len(result.decertified),
                "gate_passed": result.passed,
                "gate_failures": dg.MetadataValue.json(list(result.failures)),
                "judged_reports": outcome.judged_count,
                "judged_scope": outcome.scope,
                "gate_parts": int(result.stats.get("parts", 1)),
                "gate_s": round(outcome.gate_s, 4),
                "sql_s": round(outcome.sql_s, 4),
                "sql_violations": outcome.sql_violations,
                "alert_level": alert["level"] if alert else "none",
                "data_docs": dg.MetadataValue.path(str(result.docs_index)) if result.docs_index else "",
                "path": dg.MetadataValue.path(str(p.table("quality_issues"))),
            }
        )
        yield from to_asset_check_results(result, QUALITY_ISSUES)

    return quality_issues
