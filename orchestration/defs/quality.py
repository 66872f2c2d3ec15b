"""The quality gate between the intermediate models and the marts.

It reads what the pre-gate dbt build made (``int_identity_terms``) and writes
``HOME/parquet/quality_issues.parquet``, which the marts read through the dbt source
``quality.quality_issues`` to hold broken reports out of the certified marts.

The asset is made by :func:`quality_issues_asset` in the dbt factory (defs/dbt.py),
which knows the dbt model's asset key from the manifest.
"""

import dagster as dg
import pyarrow as pa

from ingestion import store
from orchestration import paths
from orchestration.quality_schema import QUALITY_ISSUES_SCHEMA

#: The intermediate dbt model the gate checks; defs/dbt.py finds its asset key in the manifest.
IDENTITY_TERMS_MODEL = "int_identity_terms"
QUALITY_ISSUES = dg.AssetKey(["quality", "quality_issues"])


def compute_quality_issues(p: paths.Paths) -> pa.Table:
    """THE QUALITY GATE: every accounting-identity finding, as a table of QUALITY_ISSUES_SCHEMA.

    The one function to switch to the Great Expectations gate
    (``expectations.gate.run_gate(...)`` over ``intermediate.int_identity_terms`` in
    ``p.build_warehouse``, opened read-only and closed before returning, STACK_NOTES P20).
    Until then it reports no findings: an empty table, so the marts build unfiltered.
    """
    return QUALITY_ISSUES_SCHEMA.empty_table()


def quality_issues_asset(identity_terms: dg.AssetKey) -> dg.AssetsDefinition:
    """The gate asset, downstream of the dbt model ``identity_terms`` (built with the dbt assets)."""

    @dg.asset(
        key=QUALITY_ISSUES,
        deps=[identity_terms],
        group_name="quality",
        kinds={"python", "parquet"},
        description="Accounting-identity findings per report (HOME/parquet/quality_issues.parquet), read by the marts.",
    )
    def quality_issues(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        p = paths.current().make_dirs()
        table = compute_quality_issues(p)
        if table.schema != QUALITY_ISSUES_SCHEMA:
            table = table.select(QUALITY_ISSUES_SCHEMA.names).cast(QUALITY_ISSUES_SCHEMA)
        store.write_table_atomic(table, p.table("quality_issues"))
        counts = table.group_by("severity").aggregate([("report_id", "count")])
        severities = dict(zip(counts.column("severity").to_pylist(), counts.column("report_id_count").to_pylist()))
        context.log.info(f"{table.num_rows} quality issues")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": table.num_rows,
                "by_severity": severities,
                "path": dg.MetadataValue.path(str(p.table("quality_issues"))),
            }
        )

    return quality_issues
