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
import shutil
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingestion.workers import kill_with_owner
from orchestration import paths
from orchestration.dbt_project import dbt_project
from orchestration.defs.quality import IDENTITY_TERMS_MODEL, quality_issues_asset
from orchestration.publish import publish_warehouse

#: What the gate writes; every dbt node downstream of it runs after the gate.
AFTER_GATE = "source:quality+"
PRE_GATE = "path:models/staging path:models/intermediate"
POST_GATE = f"path:models/marts {AFTER_GATE}"


class Translator(DagsterDbtTranslator):
    """dagster-dbt's defaults, with the dbt schema (staging, intermediate, marts, reference) as group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = (dbt_resource_props.get("config") or {}).get("schema")
        return schema or super().get_group_name(dbt_resource_props)


def _dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    p = paths.export_env(paths.current().make_dirs())
    # its artifacts in the home, not in dbt_project/: a killed run's folder is removed by the next run
    target = p.dbt_target_dir / f"{context.op_def.name}-{context.run.run_id[:8]}"
    invocation = dbt.cli(["build"], context=context, target_path=target)
    watchdog = kill_with_owner(invocation.process.pid)  # a killed run leaves no dbt behind, writing to HOME/build
    try:
        yield from invocation.stream()
    finally:
        if watchdog is not None:
            try:
                watchdog.wait(timeout=10)  # it ends with dbt
            except Exception:  # noqa: BLE001 (never let the watchdog fail the step)
                watchdog.kill()
        # dagster-dbt never removes an invocation's target folder: keep its dbt.log, drop the rest
        log = invocation.target_path / "dbt.log"
        if log.exists():
            shutil.copyfile(log, p.dbt_log_dir / f"{context.run.run_id[:8]}-{context.op_def.name}.log")
        shutil.rmtree(invocation.target_path, ignore_errors=True)


def _published_warehouse(deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name="published_warehouse",
        deps=deps,
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
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(p.warehouse)),
                "size_bytes": p.warehouse.stat().st_size,
                "table_rows": dg.MetadataValue.json(counts),
            }
        )

    return published_warehouse


def model_key(assets: dg.AssetsDefinition, model: str) -> dg.AssetKey:
    """The asset key dagster-dbt gave the dbt model named ``model`` in ``assets``."""
    for key in assets.keys:
        if key.path[-1] == model:
            return key
    raise KeyError(f"dbt model {model!r} is not among {sorted(k.to_user_string() for k in assets.keys)}")


@functools.cache
def build_assets() -> tuple[dg.AssetsDefinition, ...]:
    """dbt before the gate, the gate, dbt after the gate, publishing: in the order they run."""
    common = {"manifest": dbt_project.manifest_path, "project": dbt_project, "dagster_dbt_translator": Translator()}
    pre_gate = dbt_assets(select=PRE_GATE, exclude=AFTER_GATE, name="dbt_pre_gate", **common)(_dbt_build)
    gate = quality_issues_asset(model_key(pre_gate, IDENTITY_TERMS_MODEL))
    marts = dbt_assets(select=POST_GATE, name="dbt_marts", **common)(_dbt_build)
    published = _published_warehouse(sorted(marts.keys, key=lambda k: k.to_user_string()))
    return pre_gate, gate, marts, published


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    return dg.Definitions(assets=list(build_assets()))
