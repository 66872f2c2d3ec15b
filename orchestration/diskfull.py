"""A full disk at any stage of a run: one clear line, an alert when one can still be written.

When HOME's disk fills, the error surfaces in many forms: an ``OSError`` (errno 28) in a
step, a dbt error quoting DuckDB, or, when Dagster cannot even record the run in
``HOME/dagster``, a 300-line SQLAlchemy traceback ("disk I/O error"). ``ogi run`` turns
each into one line that says what happened and where (:func:`message`), writes an alert
to ``HOME/alerts.jsonl`` if the disk still takes one (:func:`send_alert_for`), and exits
with status 1. Nothing is published by a run that fails, and every write is atomic, so
the next run, once there is space, starts from a whole home (``orchestration/housekeeping.py``
removes what the failed run left).
"""
from __future__ import annotations

import errno
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Texts that only a full disk (or quota) produces.
FULL_MARKERS = ("No space left on device", "[Errno 28]", "database or disk is full", "Disk quota exceeded",
                "[Errno 122]", "not enough space on the disk")
#: Texts of a write that failed for a reason not given (SQLite says so on ENOSPC): a full disk
#: when the disk is in fact (nearly) full.
VAGUE_MARKERS = ("disk I/O error", "Input/output error", "[Errno 5]")
#: Free space under which a vague write error is taken for a full disk.
LOW_SPACE = 64 * 1024 * 1024

#: What a step does, as the line says it.
STAGES = {
    "raw_reports": "copying the inbox into HOME/raw",
    "parsed_reports": "writing the parsed reports to HOME/parquet",
    "raw__agency_links": "linking the agencies into HOME/parquet/agency_links.parquet",
    "dbt_pre_gate": "building the warehouse in HOME/build (dbt)",
    "quality__quality_issues": "running the quality gate",
    "dbt_marts": "building the marts in HOME/build (dbt)",
    "published_warehouse": "publishing the warehouse",
}

#: The step running now, and its run (:func:`note`): where a crash happened.
_current: dict[str, str | None] = {"step": None, "run_id": None}


def note(entry: Any) -> None:
    """Remember the step a run is in (an event log entry of the run, from ``on_event``)."""
    event = getattr(entry, "dagster_event", None)
    _current["run_id"] = getattr(entry, "run_id", None) or _current["run_id"]
    if event is not None and event.event_type_value == "STEP_START":
        _current["step"] = event.step_key


def stage(step: str | None = None) -> str:
    """What the run was doing in ``step`` (the current one by default)."""
    step = step or _current["step"]
    if step is None:
        return "opening the run's records in HOME/dagster"
    return STAGES.get(step, f"running step {step}")


def _texts(error: BaseException | str) -> Iterator[str]:
    if isinstance(error, str):
        yield error
        return
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            yield "No space left on device"
        yield f"{type(exc).__name__}: {exc}"
        todo += [exc.__cause__, exc.__context__]


def free_bytes(home: Path) -> int | None:
    """Free bytes on the disk of ``home`` (of its nearest existing folder)."""
    path = Path(home)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def is_disk_full(error: BaseException | str | Iterable[str], home: Path) -> bool:
    """Whether ``error`` (an exception with its causes, or messages) says HOME's disk is full."""
    texts = list(_texts(error)) if isinstance(error, (BaseException, str)) else list(error)
    if any(marker in text for text in texts for marker in FULL_MARKERS):
        return True
    if any(marker in text for text in texts for marker in VAGUE_MARKERS):
        free = free_bytes(home)
        return free is not None and free < LOW_SPACE
    return False


def _size(n: int | None) -> str:
    if n is None:
        return "? MB"
    return f"{n / 1048576:.1f} MB" if n < 1024 ** 3 else f"{n / 1024 ** 3:.1f} GB"


def message(home: Path, where: str) -> str:
    """The one line a full disk gets."""
    return (f"no space left on HOME's disk ({home}: {_size(free_bytes(home))} free) while {where}: "
            "nothing was published (the published warehouse is as it was); free some space and run again")


def from_failures(failures: Iterable[tuple[str, str]], home: Path) -> str | None:
    """The line for a run whose failed steps (step, message) failed on a full disk, else None."""
    for step, text in failures:
        if is_disk_full(text, home):
            return message(home, stage(step))
    return None


def send_alert_for(home: Path, where: str, error: str, webhook: str | None = None) -> bool:
    """Write the alert of a run stopped by a full disk (and post it); whether alerts.jsonl took it."""
    import logging

    from expectations.alerts import send_alert

    run_id = _current["run_id"] or "unknown"
    alert = {
        "kind": "ogi.run_failure",
        "run_id": run_id,
        "level": "error",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "step": _current["step"],
        "error": error[:4000],
        "summary": f"ogi run {run_id}: {message(home, where)}",
    }
    logger = logging.getLogger("expectations.alerts")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # the line below says whether it was written; no second traceback
    try:
        return bool(send_alert(alert, home, webhook)["written"])
    finally:
        logger.setLevel(level)


@contextmanager
def guard(home_of: Any, echo: Any) -> Iterator[None]:
    """Turn an exception that says HOME's disk is full into one line (``echo(text)``), an alert
    and exit status 1; anything else goes on as it was. ``home_of()`` gives the home."""
    try:
        yield
    except Exception as exc:
        home = Path(home_of())
        if not is_disk_full(exc, home):
            raise
        where = stage()
        echo(f"ogi: {message(home, where)}")
        from . import settings

        written = send_alert_for(home, where, f"{type(exc).__name__}: {exc}", settings.ALERT_WEBHOOK.get())
        echo(f"  alert written to {home / 'alerts.jsonl'}" if written
             else "  (no alert: HOME's disk does not take one either)")
        raise SystemExit(1) from None
