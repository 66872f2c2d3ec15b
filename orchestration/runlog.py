"""One log file per run: ``HOME/logs/runs/<run id>.log``, kept ``OGI_LOG_RETENTION_DAYS``.

Whoever starts a run of ``warehouse_job`` (``ogi run``, the schedule, the sensor, the UI),
its log file holds the run's Dagster messages (steps, what each asset logged) and dbt's
output, one timestamped line each; ``ogi run`` adds its summary.  The job's ``run_guard``
resource opens it and subscribes it to the run's events; the dbt steps write dbt's lines
into it.  Log files older than the retention are removed when a run starts.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

RUNS_DIR = Path("logs") / "runs"

_open: dict[Path, "RunLog"] = {}
_registry_lock = threading.Lock()


def runs_dir(home: Path) -> Path:
    return Path(home) / RUNS_DIR


def log_path(home: Path, run_id: str) -> Path:
    """Where the log of run ``run_id`` is."""
    return runs_dir(home) / f"{run_id}.log"


class RunLog:
    """A run's log file, appended to line by line from any thread of the run's process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, line: str, *, prefix: str = "") -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        text = "\n".join(f"{stamp} {prefix}{part}" for part in str(line).rstrip("\n").splitlines() or [""])
        with self._lock:
            if not self._fh.closed:
                self._fh.write(text + "\n")

    def write_raw(self, text: str) -> None:
        """Text as it is (``ogi run`` redirects stray output of libraries here)."""
        with self._lock:
            if not self._fh.closed:
                self._fh.write(text)

    def flush(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def get(home: Path, run_id: str) -> RunLog:
    """The open log of run ``run_id`` (opened on first use; closed by :func:`close`)."""
    path = log_path(home, run_id)
    with _registry_lock:
        log = _open.get(path)
        if log is None or log._fh.closed:
            log = _open[path] = RunLog(path)
        return log


def close(home: Path, run_id: str) -> None:
    with _registry_lock:
        log = _open.pop(log_path(home, run_id), None)
    if log is not None:
        log.close()


def event_line(entry: Any) -> str | None:
    """One line for a Dagster event log entry (a step starting, an asset's message, ...)."""
    event = entry.dagster_event
    step = entry.step_key or (event.step_key if event is not None else None) or ""
    where = f"[{step}] " if step else ""
    if event is not None:
        kind = event.event_type_value
        if kind in ("ASSET_CHECK_EVALUATION", "ASSET_CHECK_EVALUATION_PLANNED", "ASSET_MATERIALIZATION_PLANNED",
                    "HANDLED_OUTPUT", "LOADED_INPUT", "STEP_OUTPUT", "LOGS_CAPTURED", "STEP_WORKER_STARTING",
                    "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS"):
            return None
        message = event.message or entry.user_message or kind
        if kind == "STEP_FAILURE" and event.step_failure_data is not None and event.step_failure_data.error:
            message = f"{message}\n{event.step_failure_data.error.to_string()}"
        return f"{where}{kind}: {message}"
    return f"{where}{entry.level if isinstance(entry.level, str) else _level_name(entry.level)}: {entry.user_message}"


def _level_name(level: int) -> str:
    import logging

    return logging.getLevelName(level)


def prune(home: Path, days: float, *, keep: str | None = None) -> int:
    """Remove run logs last written more than ``days`` ago (0: keep every log); how many."""
    if days <= 0:
        return 0
    folder = runs_dir(home)
    limit = time.time() - days * 86400
    removed = 0
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return 0
    for f in entries:
        if f.suffix != ".log" or f.name == keep:
            continue
        try:
            if f.stat().st_mtime < limit:
                f.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
