"""Diagnostic: ``warehouse_job`` without the quality gate step (an empty quality_issues.parquet
instead), so that the rest of the pipeline can be measured when the gate cannot run.

Usage: ``.venv/bin/python bench/run_without_gate.py INBOX HOME`` (bench/run.py calls it when a
full ``ogi run`` fails, and labels its figures ``*_without_gate``).  Exit status 0 on success.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(inbox: str, home: str) -> int:
    import dagster as dg
    import pyarrow.parquet as pq

    from expectations.issues import ISSUES_SCHEMA
    from orchestration import runner

    p = runner.prepare(home=Path(home), inbox=Path(inbox))
    if not p.table("quality_issues").exists():
        pq.write_table(ISSUES_SCHEMA.empty_table(), p.table("quality_issues"))
    defs = runner.load_definitions()
    job = defs.resolve_job_def(runner.JOB_NAME)
    keys = [k for k in job.asset_layer.executable_asset_keys if k.to_user_string() != "quality/quality_issues"]
    with dg.DagsterInstance.from_config(str(p.dagster_home)) as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=False,
                                        run_config=runner.QUIET_RUN_CONFIG)
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
