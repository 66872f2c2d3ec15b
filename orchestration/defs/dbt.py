"""The dbt project as Dagster assets, in two steps around the quality gate, then publishing.

``dbt_pre_gate``  seeds, staging and intermediate models (``path:models/staging
                  path:models/intermediate``), minus whatever reads the gate's output
                  (``stg_quality_issues``); dbt_project/selectors.yml says the same
``quality/quality_issues``  the gate (defs/quality.py), after ``int_identity_terms``
``dbt_marts``     ``path:models/marts``, plus anything else downstream of the
                  ``quality`` source, so that nothing reads the gate's file before it is written
``published_warehouse``  copies the built warehouse to HOME/warehouse.duckdb

The assets are built in a cached factory called from ``@dg.definitions``: importing
this module never reads the manifest, so it imports before ``dbt parse`` has made one.
"""

import functools
import time
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration import dbt_inprocess, paths, runlog, runstate
from orchestration.dbt_project import dbt_project
from orchestration.defs.quality import IDENTITY_TERMS_MODEL, quality_issues_asset
from orchestration.publish import publish_warehouse

#: What the gate writes; every dbt node downstream of it runs after the gate.
AFTER_GATE = "source:quality+"
PRE_GATE = "path:models/staging path:models/intermediate"
POST_GATE = f"path:models/marts {AFTER_GATE}"
#: Resources every asset of the job takes: the home's lock and the run's log (defs/resources.py).
GUARDED = {"run_guard"}


class Translator(DagsterDbtTranslator):
    """dagster-dbt's defaults, with the dbt schema (staging, intermediate, marts, reference) as group,
    and dbt's tests not as Dagster asset checks.

    As checks, the ~130 tests cost three stored events each per run (planned, output,
    evaluation: ~5 s of a 1-file nightly run on 10,000 reports, measured). dbt's build stops
    at a failing test anyway; its results are in the run's log, a test that does not pass is
    recorded as an observation of the tested model, and ``ogi run`` counts them.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = (dbt_resource_props.get("config") or {}).get("schema")
        return schema or super().get_group_name(dbt_resource_props)


def _is_subset(context: dg.AssetExecutionContext) -> bool:
    assets_def = context.assets_def
    return (assets_def.keys_by_output_name != assets_def.node_keys_by_output_name
            or assets_def.check_specs_by_output_name != assets_def.node_check_specs_by_output_name)


def _dbt_build(context: dg.AssetExecutionContext):
    """One phase of dbt, in this process (orchestration/dbt_inprocess.py), as Dagster events."""
    p = paths.export_env(paths.current().make_dirs())
    phase = context.op_def.name
    log = runlog.get(p.home, context.run.run_id)

    def on_line(line: str) -> None:
        log.write(line, prefix=f"[{phase}] dbt: ")
        if dbt_inprocess.ECHO:
            print(line, flush=True)

    started = time.monotonic()
    fingerprint = dbt_inprocess.dbt_fingerprint()
    try:
        manifest = dbt_inprocess.parsed_manifest(p, context.run.run_id, fingerprint, on_line)
    except dbt_inprocess.DbtError as exc:
        raise dg.Failure(description=f"{exc}\ndbt's output: {runlog.log_path(p.home, context.run.run_id)}") from None
    dagster_manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    selection, indirect = get_subset_selection_for_context(
        context=context, manifest=dagster_manifest,
        select=context.op_execution_context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=context.op_execution_context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=None, dagster_dbt_translator=translator, current_dbt_indirect_selection_env=None,
    )
    if indirect:
        selection = ["--indirect-selection", indirect, *selection]
    try:
        plan = dbt_inprocess.plan(p, manifest, phase, selection, subset=_is_subset(context), fingerprint=fingerprint)
    except dbt_inprocess.DbtError as exc:
        raise dg.Failure(description=str(exc)) from None
    context.log.info(f"dbt build of {'everything' if plan.full else 'what reads the data'}: {plan.reason} "
                     f"(manifest and plan in {time.monotonic() - started:.1f} s)")
    started = time.monotonic()
    if plan.full:
        dbt_inprocess.set_stamp(p, phase, None)  # until this build has succeeded
    convert = functools.partial(_dagster_events, context=context, manifest=dagster_manifest, translator=translator,
                                project=project, target=dbt_inprocess.target_dir(p))
    tally = dbt_inprocess.tests_tally(context.run.run_id)
    tally["kept"] += sum(1 for uid in plan.kept if uid.startswith("test."))
    views = dbt_inprocess.views(manifest)
    rank, ancestors = dbt_inprocess.lineage(manifest)
    # the kept nodes (that read no data, and views), as the last full build left them; Dagster wants a
    # step's assets in topological order, so each is replayed just before the first result that needs it
    pending = sorted(plan.kept, key=lambda uid: (rank.get(uid, 0), uid))

    def replay(before: str | None) -> Iterator[Any]:
        upstream = ancestors(before) if before is not None else None
        for uid in [u for u in pending if upstream is None or u in upstream]:
            pending.remove(uid)
            yield from _kept(convert(plan.kept[uid]), uid in views)

    keepable = dbt_inprocess.keepable(manifest) if plan.full else set()
    results: dict[str, Any] = {}
    outcome = dbt_inprocess.Invocation(success=True) if not plan.args else None
    for item in dbt_inprocess.invoke(p, manifest, plan.args, on_line) if plan.args else ():
        if isinstance(item, dbt_inprocess.Invocation):
            outcome = item
            break
        uid = item["data"]["node_info"]["unique_id"]
        if uid in keepable:
            results[uid] = item
        if item["info"]["name"] == "LogTestResult":
            status = str(item["data"].get("status") or "").lower()
            tally["passed" if status == "pass" else "warned" if status == "warn" else "failed"] += 1
            if status == "pass":
                continue  # a passing test leaves no event (its line is in the run's log)
        if pending:
            yield from replay(uid)
        yield from convert(item)
    if outcome is None or not outcome.success:
        failures = outcome.failures if outcome else ["dbt ended without a result"]
        shown = "\n".join(f"  {f}" for f in failures[:10])
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        raise dg.Failure(
            description=f"dbt build failed ({len(failures)} node{'s' if len(failures) != 1 else ''}):\n{shown}{more}\n"
                        f"dbt's output: {runlog.log_path(p.home, context.run.run_id)}",
        )
    yield from replay(None)
    context.log.info(f"dbt build: {outcome.nodes} nodes in {time.monotonic() - started:.1f} s")
    if plan.full and not _is_subset(context):
        dbt_inprocess.set_stamp(p, phase, fingerprint, results)


def _dagster_events(raw: dict[str, Any], *, context, manifest, translator, project, target) -> Iterator[Any]:
    """dbt's result event as Dagster events, as dagster-dbt's CLI resource makes them."""
    event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
    yield from event.to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator, context=context,
                                             target_path=target, project=project)


#: The metadata that marks a node kept from the last full build.
KEPT = "ogi/kept"


def _kept(events: Iterator[Any], view: bool) -> Iterator[Any]:
    """The replayed events of a kept node, marked as such (what they say is the last full build's)."""
    note = ("not rebuilt: a view, and the dbt code is unchanged; it reads the current data, and the tests on "
            "it ran" if view else
            "not rebuilt: it reads no data and the dbt code is unchanged; the result is the last full build's")
    for event in events:
        if isinstance(event, dg.Output):
            yield event.with_metadata({**event.metadata, KEPT: note})
        # tests: their results stay the last full build's, counted in the tally


def _published_warehouse(deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name="published_warehouse",
        deps=deps,
        required_resource_keys=GUARDED,
        group_name="publish",
        kinds={"duckdb"},
        description=(
            "HOME/warehouse.duckdb, the analysts' copy of the warehouse: replaced atomically "
            "when the build succeeds, never touched by a failed run."
        ),
    )
    def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        p = paths.current()
        counts = publish_warehouse(p.build_warehouse, p.warehouse)
        context.log.info(f"published {p.warehouse}")
        selection = context.run.asset_selection
        if not selection or set(selection) >= set(context.job_def.asset_layer.executable_asset_keys):
            # the whole job ran (an empty selection is the whole job): the home is as the record says
            runstate.record_success(p, context.run.run_id, *_inbox_seen(context))
        else:  # a part of the job: what the home holds is no longer known to match a whole run
            runstate.forget_success(p.home)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(p.warehouse)),
                "size_bytes": p.warehouse.stat().st_size,
                "table_rows": dg.MetadataValue.json(counts),
            }
        )

    return published_warehouse


def _inbox_seen(context: dg.AssetExecutionContext) -> tuple[int, str]:
    """(files, listing fingerprint) the run's inventory took in, from its raw_reports materialization."""
    from orchestration.defs.ingestion import RAW_REPORTS

    event = context.instance.get_latest_materialization_event(RAW_REPORTS)
    meta = event.asset_materialization.metadata if event is not None and event.asset_materialization else {}
    files, listing = meta.get("files_seen"), meta.get("inbox_fingerprint")
    return (int(files.value) if files is not None else 0), (str(listing.value) if listing is not None else "")


def model_key(assets: dg.AssetsDefinition, model: str) -> dg.AssetKey:
    """The asset key dagster-dbt gave the dbt model named ``model`` in ``assets``."""
    for key in assets.keys:
        if key.path[-1] == model:
            return key
    raise KeyError(f"dbt model {model!r} is not among {sorted(k.to_user_string() for k in assets.keys)}")


@functools.cache
def build_assets() -> tuple[dg.AssetsDefinition, ...]:
    """dbt before the gate, the gate, dbt after the gate, publishing: in the order they run."""
    common = {"manifest": dbt_project.manifest_path, "project": dbt_project, "dagster_dbt_translator": Translator(),
              "required_resource_keys": GUARDED}
    pre_gate = dbt_assets(select=PRE_GATE, exclude=AFTER_GATE, name="dbt_pre_gate", **common)(_dbt_build)
    gate = quality_issues_asset(model_key(pre_gate, IDENTITY_TERMS_MODEL))
    marts = dbt_assets(select=POST_GATE, name="dbt_marts", **common)(_dbt_build)
    published = _published_warehouse(sorted(marts.keys, key=lambda k: k.to_user_string()))
    return pre_gate, gate, marts, published


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    return dg.Definitions(assets=list(build_assets()))
