"""Ingestion: the inbox inventory (with raw copies) and the parsed Parquet tables.

The work itself is in ``ingestion/inventory.py``, ``ingestion/parse_run.py`` and
``ingestion/parts.py`` (pure functions); these assets only call it and describe what
happened.  Each starts by making its part of the home whole again
(``orchestration/housekeeping.py``, ``ingestion/repair.py``): what a killed run left is
removed, damaged files are set aside and what they held is parsed again.
"""

import time
from collections import Counter

import dagster as dg

from ingestion import PARSER_VERSION
from ingestion.inventory import InboxEntry, fingerprint, take_inventory
from ingestion.parse import sniff_format
from ingestion.parse_run import PendingReport, parse_pending, plan_parse
from ingestion.parts import PARSED_TABLES, parsed_versions, table_glob
from ingestion.repair import check_store
from orchestration import housekeeping, paths, preflight, settings

#: The keys dbt's sources ``raw.reports`` etc. map to (dagster-dbt's default translation).
PARSED_KEYS = {name: dg.AssetKey(["raw", name]) for name in PARSED_TABLES}
#: How many failures an asset's metadata lists by name (the table holds them all).
LISTED_FAILURES = 100


RAW_REPORTS = dg.AssetKey("raw_reports")
#: The key dbt's source ``raw.inventory`` maps to: the same file, made by the same step.
INVENTORY = dg.AssetKey(["raw", "inventory"])


@dg.multi_asset(
    name="raw_reports",
    group_name="ingestion",
    required_resource_keys={"run_guard"},
    specs=[
        dg.AssetSpec(
            RAW_REPORTS,
            kinds={"python", "parquet"},
            description=(
                "The inbox taken in: every new file copied, content-addressed, to HOME/raw/ so that nothing "
                "dropped in is lost, and listed in the inventory."
            ),
        ),
        dg.AssetSpec(
            INVENTORY,
            kinds={"python", "parquet"},
            description=(
                "HOME/parquet/inventory.parquet: every file seen (path, size, sha256, detected format, raw copy, "
                "first and last seen); dbt's source raw.inventory."
            ),
        ),
    ],
)
def raw_reports(context: dg.AssetExecutionContext):
    p = paths.current().make_dirs()
    try:
        preflight.check_inbox(p.inbox)
    except preflight.PreflightError as exc:  # nothing is built or published from a missing inbox
        raise dg.Failure(description=str(exc)) from None
    home_check = housekeeping.before_run(p)
    for line in home_check.lines():
        context.log.warning(line)
    started = time.monotonic()
    inv = take_inventory(p.inbox, p.raw_dir, p.inventory, sniff_format,
                         workers=settings.PARSE_WORKERS.get() or None)
    seconds = time.monotonic() - started
    context.log.info(
        f"{p.inbox}: {len(inv.entries)} files, {inv.new_files} new; {inv.hashed} hashed, "
        f"{inv.stored} raw copies written ({seconds:.1f} s)"
    )
    for item in inv.skipped[:LISTED_FAILURES]:
        context.log.warning(f"skipped {item.location}: {item.reason}")
    yield dg.MaterializeResult(
        asset_key=RAW_REPORTS,
        metadata={
            "inbox": dg.MetadataValue.path(str(p.inbox)),
            "files_seen": len(inv.entries),
            # what the inbox sensor compares with the last successful run's listing (orchestration/runstate.py)
            "inbox_fingerprint": fingerprint(InboxEntry(r["path"], r["size"], r["mtime_ns"]) for r in inv.entries),
            "new_files": inv.new_files,
            "hashed": inv.hashed,
            "raw_copies_written": inv.stored,
            "inventory_rows": inv.total_rows,
            "formats": dict(Counter(r["format"] for r in inv.entries)),
            "raw_dir": dg.MetadataValue.path(str(p.raw_dir)),
            "seconds": round(seconds, 3),
            # what the inbox holds that was not read (links out of it, special files, ...), and why
            "skipped": len(inv.skipped),
            "skipped_files": dg.MetadataValue.json(
                [{"path": s.location, "reason": s.reason} for s in inv.skipped[:LISTED_FAILURES]]),
            # what an interrupted run left and was removed, damage found and what was done
            "repairs": dg.MetadataValue.json(home_check.lines()),
        },
    )
    yield dg.MaterializeResult(
        asset_key=INVENTORY,
        metadata={"dagster/row_count": inv.total_rows, "path": dg.MetadataValue.path(str(p.inventory))},
    )


@dg.multi_asset(
    name="parsed_reports",
    group_name="ingestion",
    required_resource_keys={"run_guard"},
    specs=[
        dg.AssetSpec(
            key,
            deps=[RAW_REPORTS],
            kinds={"python", "parquet"},
            description=f"HOME/parquet/{name}-<part>.parquet, one part per slice of a run (schema in ingestion/schema.py).",
        )
        for name, key in PARSED_KEYS.items()
    ],
)
def parsed_reports(context: dg.AssetExecutionContext):
    """Parse every inventoried report not yet parsed by this parser version; write the tables atomically."""
    p = paths.current().make_dirs()
    store = check_store(p.parquet_dir, p.damaged_dir)
    for line in store.lines():
        context.log.warning(f"Parquet store: {line}")
    pending = plan_parse(p.inventory, p.raw_dir, parsed_versions(p.parquet_dir), PARSER_VERSION)
    context.log.info(f"{len(pending)} reports to parse with parser {PARSER_VERSION}")

    started = time.monotonic()

    def progress(done: int, total: int, last: PendingReport) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        context.log.info(f"parsed {done}/{total} ({rate:.0f} reports/s), last {last.name}")

    # the limits as arguments (ingestion reads no environment)
    run = parse_pending(
        pending,
        raw_dir=p.raw_dir,
        parquet_dir=p.parquet_dir,
        parse=housekeeping.parse_function(),
        parser_version=PARSER_VERSION,
        progress=progress,
        **housekeeping.parse_options(),
    )
    seconds = time.monotonic() - started
    for failure in run.failed[:LISTED_FAILURES]:
        context.log.warning(f"cannot parse {failure.source_file} ({failure.report_id[:12]}): {failure.error}")
    if len(run.failed) > LISTED_FAILURES:
        context.log.warning(f"... and {len(run.failed) - LISTED_FAILURES} more files that cannot be parsed")
    common = {
        "parser_version": PARSER_VERSION,
        "parsed": run.parsed,
        "failed": len(run.failed),
        "rewritten": run.changed,
        "parse_workers": run.workers,
        "parts_added": run.parts,
        "parse_seconds": round(seconds, 3),
        "reports_per_second": round((run.parsed + len(run.failed)) / seconds, 1) if pending else 0.0,
        # damage the Parquet store's check found, and what was done (the reports it held are parsed again)
        "repairs": dg.MetadataValue.json(store.lines()),
    }
    failures = [{"source_file": f.source_file, "report_id": f.report_id, "error": f.error,
                 "error_kind": f.error_kind.value} for f in run.failed[:LISTED_FAILURES]]
    for name, key in PARSED_KEYS.items():
        metadata = {
            **common,
            "dagster/row_count": run.rows[name],
            "path": dg.MetadataValue.path(table_glob(p.parquet_dir, name)),
        }
        if name == "parse_errors":
            metadata["failed_files"] = dg.MetadataValue.json(failures)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
