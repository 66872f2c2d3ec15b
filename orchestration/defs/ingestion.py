"""Ingestion: the inbox inventory (with raw copies) and the parsed Parquet tables.

The work itself is in ``ingestion/store.py`` (pure functions); these assets only
call it and describe what happened.
"""

from collections import Counter

import dagster as dg

from ingestion import PARSER_VERSION, store
from ingestion.parse import parse_file, sniff_format
from orchestration import paths

#: The keys dbt's sources ``raw.reports`` etc. map to (dagster-dbt's default translation).
PARSED_KEYS = {name: dg.AssetKey(["raw", name]) for name in store.PARSED_TABLES}
#: How many failures an asset's metadata lists by name (the table holds them all).
LISTED_FAILURES = 100


@dg.asset(
    group_name="ingestion",
    kinds={"python", "parquet"},
    description=(
        "Inventory of the inbox (path, size, sha256, detected format) in HOME/parquet/inventory.parquet. "
        "Every new file is copied, content-addressed, to HOME/raw/ so that nothing dropped in is lost."
    ),
)
def raw_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths.current().make_dirs()
    inv = store.take_inventory(p.inbox, p.raw_dir, p.inventory, sniff_format)
    context.log.info(
        f"{p.inbox}: {len(inv.entries)} files, {inv.new_files} new; {inv.hashed} hashed, {inv.stored} raw copies written"
    )
    return dg.MaterializeResult(
        metadata={
            "inbox": dg.MetadataValue.path(str(p.inbox)),
            "files_seen": len(inv.entries),
            "new_files": inv.new_files,
            "hashed": inv.hashed,
            "raw_copies_written": inv.stored,
            "inventory_rows": inv.total_rows,
            "formats": dict(Counter(r["format"] for r in inv.entries)),
            "raw_dir": dg.MetadataValue.path(str(p.raw_dir)),
        }
    )


@dg.multi_asset(
    name="parsed_reports",
    group_name="ingestion",
    specs=[
        dg.AssetSpec(
            key,
            deps=[raw_reports],
            kinds={"python", "parquet"},
            description=f"HOME/parquet/{name}.parquet (schema in ingestion/schema.py).",
        )
        for name, key in PARSED_KEYS.items()
    ],
)
def parsed_reports(context: dg.AssetExecutionContext):
    """Parse every inventoried report not yet parsed by this parser version; write the tables atomically."""
    p = paths.current().make_dirs()
    pending = store.plan_parse(p.inventory, p.raw_dir, store.parsed_versions(p.parquet_dir), PARSER_VERSION)
    context.log.info(f"{len(pending)} reports to parse with parser {PARSER_VERSION}")

    def progress(i: int, total: int, item: store.PendingReport) -> None:
        if i % 500 == 0:
            context.log.info(f"parsing {i + 1}/{total}: {item.name}")

    run = store.parse_pending(
        pending,
        raw_dir=p.raw_dir,
        parquet_dir=p.parquet_dir,
        parse=parse_file,
        parser_version=PARSER_VERSION,
        progress=progress,
    )
    for source, report_id, reason in run.failed:
        context.log.warning(f"cannot parse {source} ({report_id[:12]}): {reason}")
    common = {"parser_version": PARSER_VERSION, "parsed": run.parsed, "failed": len(run.failed), "rewritten": run.changed}
    failures = [{"source_file": s, "report_id": r, "error": e} for s, r, e in run.failed[:LISTED_FAILURES]]
    for name, key in PARSED_KEYS.items():
        metadata = {**common, "dagster/row_count": run.rows[name], "path": dg.MetadataValue.path(str(p.table(name)))}
        if name == "parse_errors":
            metadata["failed_files"] = dg.MetadataValue.json(failures)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
