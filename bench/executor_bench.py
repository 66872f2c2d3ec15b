"""Parsing the same slices three ways: ``parse_pending``'s process pool, and a Dagster job whose
steps each parse one slice (fan-out with ``DynamicOut``), on the multiprocess executor and
in-process.  The job is the shape a Dagster-native scale-out would take (one step per
slice; on Kubernetes, one pod per step), so its overhead is what that path costs.

Usage: ``.venv/bin/python -m bench.executor_bench [CORPUS] [--reports 2000]``; also called by
bench/run.py.  Prints one JSON line.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingestion import PARSER_VERSION, parse_run, parts  # noqa: E402
from ingestion.inventory import take_inventory  # noqa: E402
from ingestion.parse import parse_file, sniff_format  # noqa: E402
from orchestration import settings  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
#: The home the job parses into (set by :func:`compare` before it runs the job).
HOME_ENV = "BENCH_EXECUTOR_HOME"
SLICE_ENV = "BENCH_EXECUTOR_SLICE"


def _parse() -> functools.partial:
    """``parse_file`` with the limits the pipeline parses with (``OGI_MAX_FILE_MB``, ``OGI_FILE_TIMEOUT_S``)."""
    return functools.partial(parse_file, max_bytes=settings.max_file_bytes(), timeout_s=settings.FILE_TIMEOUT_S.get())


def _home() -> dict[str, Path]:
    root = Path(os.environ[HOME_ENV])
    return {"raw": root / "raw", "parquet": root / "parquet"}


def _pending(home: dict[str, Path]) -> list[parse_run.PendingReport]:
    return parse_run.plan_parse(home["parquet"] / "inventory.parquet", home["raw"],
                                parts.parsed_versions(home["parquet"]), PARSER_VERSION)


@dg.op(out=dg.DynamicOut())
def plan_slices():
    home = _home()
    pending = _pending(home)
    size = int(os.environ.get(SLICE_ENV) or parse_run.slice_size(len(pending)))
    first = parts.next_part_number(home["parquet"])
    for k, i in enumerate(range(0, len(pending), size)):
        items = [(p.report_id, p.name, p.format, p.raw_path) for p in pending[i:i + size]]
        yield dg.DynamicOutput({"part": first + k, "items": items}, mapping_key=f"part_{first + k}")


@dg.op
def parse_slice(task: dict[str, Any]) -> dict[str, Any]:
    home = _home()
    items = tuple(parse_run.PendingReport(*item) for item in task["items"])
    result = parse_run._run_slice(parse_run._Slice(task["part"], items, home["raw"], home["parquet"], _parse(),
                                                   PARSER_VERSION, NOW, 50_000))
    return {"part": result.part, "files": result.files, "parsed": result.parsed, "failed": len(result.failed)}


@dg.op
def commit_parts(results: list[dict[str, Any]]) -> int:
    home = _home()
    with parts.TableWriter(home["parquet"], clean=False) as out:
        for r in sorted(results, key=lambda r: r["part"]):
            out.adopt(r["part"], r["files"])
        out.commit()
    return sum(r["parsed"] for r in results)


@dg.job(executor_def=dg.multiprocess_executor.configured({"max_concurrent": int(os.environ.get("BENCH_EXECUTOR_WORKERS", "2"))}))
def parse_multiprocess():
    commit_parts(plan_slices().map(parse_slice).collect())


@dg.job(executor_def=dg.in_process_executor)
def parse_in_process():
    commit_parts(plan_slices().map(parse_slice).collect())


def _prepare(root: Path, inbox: Path) -> dict[str, Path]:
    shutil.rmtree(root, ignore_errors=True)
    home = {"raw": root / "raw", "parquet": root / "parquet"}
    take_inventory(inbox, home["raw"], home["parquet"] / "inventory.parquet", sniff_format,
                   workers=settings.PARSE_WORKERS.get() or None)
    return home


def _job(job: dg.JobDefinition, root: Path, inbox: Path) -> dict[str, Any]:
    _prepare(root, inbox)
    os.environ[HOME_ENV] = str(root)
    with tempfile.TemporaryDirectory() as dagster_home:
        Path(dagster_home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        with dg.DagsterInstance.from_config(dagster_home) as instance:
            started = time.perf_counter()
            quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
            with dg.execute_job(dg.reconstructable(job), instance=instance, run_config=quiet) as result:
                wall = time.perf_counter() - started
                assert result.success
                parsed = result.output_for_node("commit_parts")
                stats = instance.get_run_step_stats(result.run_id)
    steps = [s.end_time - s.start_time for s in stats if s.step_key.startswith("parse_slice")]
    return {"wall_s": round(wall, 2), "parsed": parsed, "slices": len(steps),
            "mean_parse_step_s": round(sum(steps) / max(len(steps), 1), 2)}


def _inbox(corpus: Path, reports: int, scratch: Path) -> Path:
    """An inbox of the corpus's first ``reports`` files (hard links)."""
    inbox = scratch / f"inbox-{reports}"
    if inbox.exists() and sum(1 for _ in inbox.rglob("*.*")) == reports:
        return inbox
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as fh:
        for k, line in enumerate(fh):
            if k == reports:
                break
            src = corpus / json.loads(line)["file"]
            os.link(src, inbox / src.name)
    return inbox


def compare(corpus: Path, scratch: Path, workers: int, reports: int = 4000, slice_reports: int = 500) -> dict[str, Any]:
    """Wall times of the three ways on the corpus's first ``reports`` files, ``reports / slice_reports`` slices."""
    inbox = _inbox(corpus, reports, scratch)
    os.environ[SLICE_ENV] = str(slice_reports)
    os.environ["BENCH_EXECUTOR_WORKERS"] = str(workers)
    out: dict[str, Any] = {"reports": reports, "slices": -(-reports // slice_reports), "workers": workers}
    for label, n in (("pool", workers), ("serial", 1)):
        home = _prepare(scratch / f"executor-{label}", inbox)
        started = time.perf_counter()
        run = parse_run.parse_pending(_pending(home), raw_dir=home["raw"], parquet_dir=home["parquet"], parse=_parse(),
                                  parser_version=PARSER_VERSION, now=NOW, workers=n, slice_reports=slice_reports)
        out[f"{label}_s"] = round(time.perf_counter() - started, 2)
        assert run.parsed == reports, run
    for label, job in (("dagster_multiprocess", parse_multiprocess), ("dagster_in_process", parse_in_process)):
        res = _job(job, scratch / f"executor-{label}", inbox)
        assert res["parsed"] == reports, res
        out[f"{label}_s"] = res["wall_s"]
        out[f"{label}_mean_step_s"] = res["mean_parse_step_s"]
    for label in ("pool", "dagster_multiprocess", "dagster_in_process"):
        out[f"{label}_reports_per_s"] = round(reports / out[f"{label}_s"], 1)
    for label in ("pool", "serial", "dagster_multiprocess", "dagster_in_process"):
        shutil.rmtree(scratch / f"executor-{label}", ignore_errors=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, nargs="?", default=REPO / "bench" / "out" / "corpus-10000-s1")
    ap.add_argument("--reports", type=int, default=4000)
    ap.add_argument("--slice", type=int, default=500)
    args = ap.parse_args()
    from ingestion.workers import cpu_count

    print(json.dumps(compare(args.corpus, REPO / "bench" / "out", cpu_count(), args.reports, args.slice)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
