"""The inspector's site, written after each run that published the warehouse.

The asset appends the run to ``HOME/run_history.jsonl`` (from the metadata this run's
assets recorded) and writes ``HOME/inspector/`` from the published warehouse, read-only
(``inspector/``).  ``ogi inspect`` writes the same site by hand.
"""
from datetime import datetime, timezone
from typing import Any

import dagster as dg

from orchestration import paths

PUBLISHED = dg.AssetKey("published_warehouse")
INSPECTOR = dg.AssetKey("inspector")


def run_metadata(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    """Asset key -> the metadata values of its materialization in run ``run_id``."""
    out: dict[str, dict[str, Any]] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.dagster_event.step_materialization_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _iso(timestamp: "float | None") -> "str | None":
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat() if timestamp else None


@dg.asset(
    key=INSPECTOR,
    deps=[PUBLISHED],
    group_name="inspect",
    kinds={"html"},
    required_resource_keys={"chart_process"},
    description=(
        "HOME/inspector/: a static, offline HTML site of the published warehouse (overview, indicators, "
        "each quarantined report with its breaking cells marked, agencies with issues), and the run's line "
        "in HOME/run_history.jsonl."
    ),
)
def inspector_site(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from inspector import build_site, history, links

    p = paths.current()
    run_id = context.run.run_id
    record = context.instance.get_run_record_by_id(run_id)
    started = record.start_time if record is not None else None
    line = history.record(run_id, _iso(started), datetime.now(timezone.utc).isoformat(),
                          run_metadata(context.instance, run_id))
    history.append(p.home, line)
    site = p.home / links.SITE_DIR
    stats = build_site(p.warehouse, site, raw_dir=p.raw_dir, runs=history.read(p.home),
                       drawer=context.resources.chart_process)
    context.log.info(f"inspector: {stats.pages} pages ({stats.report_pages} quarantined reports, "
                     f"{stats.agency_pages} agencies), {stats.bytes / 1e6:.1f} MB in {stats.seconds:.1f} s: "
                     f"{site / links.INDEX}")
    meta = stats.as_metadata()
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(site / links.INDEX)),
        **{k: v for k, v in meta.items() if k != "step_s"},
        "step_s": dg.MetadataValue.json(meta["step_s"]),
        "run_history": dg.MetadataValue.path(str(history.path(p.home))),
    })
