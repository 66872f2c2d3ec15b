"""The run history: one JSON line per successful run in ``HOME/run_history.jsonl``.

The inspector's Dagster asset appends a line after each run that published the warehouse,
from the metadata the run's assets recorded (files seen, parsed, failed, parse speed, the
gate's time and verdicts, the published tables); the overview charts the last runs.  The
file keeps the last :data:`KEEP` runs (a few hundred bytes each).
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

HISTORY_FILE = "run_history.jsonl"
KEEP = 1000


def path(home: Path) -> Path:
    return Path(home) / HISTORY_FILE


def record(run_id: str, started_at: str | None, finished_at: str,
           metadata: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A history line from a run's materialization metadata (asset key -> metadata values)."""
    inv = metadata.get("raw_reports", {})
    parsed = metadata.get("raw/reports", {})
    gate = metadata.get("quality/quality_issues", {})
    published = metadata.get("published_warehouse", {})
    done, failed = parsed.get("parsed"), parsed.get("failed")
    tried = (done or 0) + (failed or 0)
    tables = published.get("table_rows") or {}
    return {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": finished_at,
        "files_seen": inv.get("files_seen"),
        "new_files": inv.get("new_files"),
        "parsed": done,
        "failed": failed,
        "parse_rate": round(done / tried, 4) if tried and done is not None else None,
        "reports_per_s": parsed.get("reports_per_second"),
        "parse_s": parsed.get("parse_seconds"),
        "gate_s": gate.get("gate_s"),
        "judged_reports": gate.get("judged_reports"),
        "issues": gate.get("dagster/row_count"),
        "new_issues": gate.get("new_issues"),
        "quarantined": gate.get("quarantined_reports"),
        "reports": tables.get("marts.dim_report"),
        "warehouse_bytes": published.get("size_bytes"),
    }


def append(home: Path, line: Mapping[str, Any]) -> Path:
    """Add ``line`` to the history, keeping the last :data:`KEEP` lines (written whole, then renamed)."""
    target = path(home)
    lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
    lines = [x for x in lines if x.strip()][-(KEEP - 1):] + [json.dumps(dict(line), ensure_ascii=False, default=str)]
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def read(home: Path, last: int = 30) -> list[dict[str, Any]]:
    """The last ``last`` runs, oldest first (lines that do not parse are skipped)."""
    target = path(home)
    if not target.exists():
        return []
    out = []
    for text in target.read_text(encoding="utf-8").splitlines()[-last:]:
        try:
            out.append(json.loads(text))
        except ValueError:
            continue
    return out
