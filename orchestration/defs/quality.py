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

from ingestion import store
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


def _categorical_frame(con: duckdb.DuckDBPyConnection, relation: str, text_columns: list[str],
                       other_columns: list[str]) -> pd.DataFrame:
    """``relation`` as a pandas frame whose text columns are categoricals (DuckDB ENUMs).

    At a national scale the cells are 30M rows: as Python strings their report ids
    alone would take gigabytes; as categoricals they take 4 bytes a row.
    """
    selects = []
    prefix = relation.rsplit(".", 1)[-1]
    for column in text_columns:
        type_name = f"ogi_{prefix}_{column}"
        con.execute(f"create type {type_name} as enum "
                    f"(select distinct {column} from {relation} where {column} is not null)")
        selects.append(f"cast({column} as {type_name}) as {column}")
    selects += other_columns
    return con.execute(f"select {', '.join(selects)} from {relation}").df()


def _frames(p: paths.Paths) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Terms, cells, reports and parse errors from the build warehouse, opened read-only and closed (P20).

    Only current reports (not versions superseded in the inbox) are judged.  The
    warehouse is attached read-only to an in-memory database, where the frames'
    categorical types can be declared.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach '{p.build_warehouse}' as wh (read_only)")
        terms = _categorical_frame(con, "wh.intermediate.int_identity_terms",
                                   ["report_id", "rule", "severity", "scope_kind", "scope", "cells"],
                                   ["lhs", "rhs", "residual"])
        cells = _categorical_frame(con, "wh.intermediate.int_current_cells",
                                   ["report_id", "table_name", "row_key", "col_key"], ["value"])
        reports = con.execute(
            "select report_id, source_file, agency, year, parsed_at from wh.intermediate.int_current_reports"
        ).df()
        errors = con.execute("select * from wh.staging.stg_parse_errors").df()
    finally:
        con.close()
    return terms, cells, reports, errors


def _sql_identities(terms: pd.DataFrame) -> tuple[int, float]:
    """The same identity judgement as one plain DuckDB query over the same frame (the benchmark's yardstick)."""
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        con.register("terms", terms)
        (violations,) = con.execute("select count(*) from terms where abs(lhs - rhs) > 1e-9").fetchone()
    finally:
        con.close()
    return int(violations), time.perf_counter() - started


def _run_share_frames(reports: pd.DataFrame, errors: pd.DataFrame, run_started: datetime | None
                      ) -> tuple[pd.DataFrame, int, str]:
    """The reports and parse-failure count the run-level shares are judged over, and what they cover.

    Files that are no readable report at all (empty, binary, images, encrypted:
    :func:`ingestion.parse.is_unreadable`) are listed in parse_errors but are no
    sign of a parser regression, so they are not counted as parse failures.
    """
    from ingestion.parse import is_unreadable

    if len(errors):
        errors = errors[~errors["error"].astype(str).map(is_unreadable)]
    if run_started is not None and "parsed_at" in reports.columns:
        since = pd.Timestamp(run_started)
        new_reports = reports[pd.to_datetime(reports["parsed_at"], utc=True) >= since]
        new_errors = int((pd.to_datetime(errors["parsed_at"], utc=True) >= since).sum()) if len(errors) else 0
        if len(new_reports) + new_errors >= MIN_RUN_FILES:
            return new_reports, new_errors, "this run's files"
    return reports, len(errors), "the whole warehouse"


def run_quality_gate(p: paths.Paths, run_id: str, run_started: datetime | None = None) -> GateOutcome:
    """Load the frames, run the Great Expectations gate, and work out which issues are new."""
    from expectations.gate import issues_table, run_gate  # GE imports slowly (P15): only when the gate runs

    started = time.perf_counter()
    terms, cells, reports, errors = _frames(p)
    share_reports, share_errors, _ = _run_share_frames(reports, errors, run_started)
    result = run_gate(
        terms,
        cells,
        reports=share_reports,
        parse_error_count=share_errors,
        file_count=len(share_reports) + share_errors,
        docs_dir=p.home / "quality",
        run_name=run_id,
    )
    gate_s = time.perf_counter() - started
    sql_violations, sql_s = _sql_identities(terms)
    previous_path = p.table("quality_issues")
    issues = result.issues
    if previous_path.exists() and len(issues):
        previous = pq.read_table(previous_path, columns=[*ISSUE_KEY, "checked_at"]).to_pandas()
        previous = previous.astype({k: str for k in ISSUE_KEY}).drop_duplicates(ISSUE_KEY)
        merged = issues[ISSUE_KEY].astype(str).merge(previous, how="left", on=ISSUE_KEY)
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
    return GateOutcome(result, reports, table, new_issues, gate_s, sql_s, sql_violations)


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
        store.write_table_atomic(outcome.table, p.table("quality_issues"))
        result = outcome.result
        alert = alert_for(outcome, context.run.run_id, p.home)
        context.log.info(
            f"quality gate {'passed' if result.passed else 'FAILED'}: {len(result.issues)} issues "
            f"({len(outcome.new_issues)} new), {len(result.decertified)} reports quarantined, "
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
