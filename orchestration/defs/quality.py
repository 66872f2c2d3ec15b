"""The quality gate asset: between the intermediate models and the marts.

The gate itself is the ``expectations`` package (expectations/gate.py); this asset runs it
on the working warehouse, writes ``HOME/parquet/quality_issues.parquet`` (which the marts
read through the dbt source ``quality.quality_issues`` to hold broken reports out of the
certified facts), sends the run's alert and reports one Dagster check per rule.  The
run-level verdict is the blocking check ``quality_gate``: when something systemic is wrong
(too many parse failures or quarantines, a schema expectation failing) the marts are not
rebuilt and the published warehouse stays as it was.

The asset is made by :func:`quality_issues_asset` in the dbt factory (defs/dbt.py), which
knows the dbt model's asset key from the manifest.
"""

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import dagster as dg
from pydantic import Field

from orchestration import findings, paths, settings

#: The intermediate dbt model the gate checks; defs/dbt.py finds its asset key in the manifest.
IDENTITY_TERMS_MODEL = "int_identity_terms"
QUALITY_ISSUES = dg.AssetKey(["quality", "quality_issues"])


class QualityGateConfig(dg.Config):
    """Run config of the gate; a value left out comes from its ``OGI_*`` setting."""

    max_bad_share: float | None = Field(default=None, description=settings.MAX_BAD_SHARE.doc)
    min_run_files: int | None = Field(default=None, description=settings.GATE_MIN_RUN_FILES.doc)
    chunk_reports: int | None = Field(default=None, description=settings.GATE_CHUNK_REPORTS.doc)
    full: bool | None = Field(default=None, description=settings.GATE_FULL.doc)

    def resolve(self):
        """The gate's :class:`~expectations.gate.GateConfig`: run config first, then the settings."""
        from expectations.gate import GateConfig

        def pick(value, setting):
            return setting.get() if value is None else value

        return GateConfig(
            max_bad_share=pick(self.max_bad_share, settings.MAX_BAD_SHARE),
            min_run_files=pick(self.min_run_files, settings.GATE_MIN_RUN_FILES),
            chunk_reports=pick(self.chunk_reports, settings.GATE_CHUNK_REPORTS),
            full=pick(self.full, settings.GATE_FULL),
        )


def quality_issues_asset(identity_terms: dg.AssetKey) -> dg.AssetsDefinition:
    """The gate asset, downstream of the dbt model ``identity_terms`` (built with the dbt assets)."""
    from expectations.dagster_adapter import gate_check_specs

    @dg.asset(
        key=QUALITY_ISSUES,
        deps=[identity_terms],
        group_name="quality",
        kinds={"python", "parquet"},
        required_resource_keys={"run_guard", "gate_process"},
        check_specs=gate_check_specs(QUALITY_ISSUES),
        description=(
            "Accounting-identity and value findings per report, judged by Great Expectations "
            "(HOME/parquet/quality_issues.parquet), read by the marts. Blocking check quality_gate "
            "stops the marts when the run as a whole is bad."
        ),
    )
    def quality_issues(context: dg.AssetExecutionContext,
                       config: QualityGateConfig) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        from expectations.alerts import alert_for
        from expectations.dagster_adapter import to_asset_check_results
        from expectations.gate import run_quality_gate, write_outcome
        from inspector import links

        p = paths.current().make_dirs()
        record = context.instance.get_run_record_by_id(context.run.run_id)
        started = record.start_time if record is not None and record.start_time else None
        outcome = context.resources.gate_process.run(
            run_quality_gate,
            p.build_warehouse, p.parquet_dir, docs_dir=p.home / "quality", run_id=context.run.run_id,
            run_started=datetime.fromtimestamp(started, tz=timezone.utc) if started else None,
            config=config.resolve(),
        )
        issues_path = write_outcome(outcome, p.parquet_dir)
        result = outcome.result
        write_verdict(p, context.run.run_id, outcome, issues_path)
        site = p.home / links.SITE_DIR  # written by the inspector asset once the run has published
        alert, delivery = alert_for(outcome, context.run.run_id, p.home, settings.ALERT_WEBHOOK.get(),
                          page_for=lambda issue: links.issue_page(site, issue), inspector_index=site / links.INDEX)
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
                # the run's quarantines by whom they blame: the report, the parser, its metadata
                "quarantined_by_cause": dg.MetadataValue.json(result.stats.get("decertified_by_cause", {})),
                "gate_passed": result.passed,
                "gate_failures": dg.MetadataValue.json(list(result.failures)),
                "judged_reports": outcome.judged_count,
                "judged_scope": outcome.scope,
                "gate_parts": int(result.stats.get("parts", 1)),
                "gate_s": round(outcome.gate_s, 4),
                "sql_s": round(outcome.sql_s, 4),
                "sql_violations": outcome.sql_violations,
                "alert_level": alert["level"] if alert else "none",
                # skipped (no webhook), delivered, or failed: <why> (also recorded in alerts.jsonl)
                "alert_webhook": _delivery_text(delivery),
                "data_docs": dg.MetadataValue.path(str(result.docs_index)) if result.docs_index else "",
                "path": dg.MetadataValue.path(str(issues_path)),
            }
        )
        yield from to_asset_check_results(result, QUALITY_ISSUES)

    return quality_issues


def write_verdict(p: paths.Paths, run_id: str, outcome, issues_path: Path) -> Path:
    """``HOME/quality/last_gate.json``: the run-level verdict of the last gate, passed or not,
    readable without the published warehouse (a gate that blocks a first run leaves none)."""
    from expectations.results import jsonable
    from ingestion.atomic import write_bytes_atomic

    result = outcome.result
    verdict = jsonable({
        "run_id": run_id,
        "checked_at": result.checked_at.isoformat(),
        "passed": result.passed,
        "failures": list(result.failures),
        "issues": len(result.issues),
        "new_issues": len(outcome.new_issues),
        "quarantined_reports": len(result.decertified),
        "judged_reports": outcome.judged_count,
        "judged_scope": outcome.scope,
        "stats": result.stats,
        "issues_path": str(issues_path),
        "data_docs": str(result.docs_index) if result.docs_index else None,
    })
    target = findings.verdict_path(p.home)
    write_bytes_atomic(json.dumps(verdict, indent=1, ensure_ascii=False).encode("utf-8"), target)
    return target


def _delivery_text(delivery: dict | None) -> str:
    if delivery is None:
        return "none"
    if delivery["webhook"] == "failed":
        return f"failed: {delivery['error']}"
    return delivery["webhook"]
