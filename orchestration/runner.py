"""Running the whole warehouse in this process, through the code location the UI loads.

``ogi run`` and the tests use :func:`run_warehouse`: it loads ``orchestration.definitions``
(the same Definitions ``dagster dev`` serves), resolves ``warehouse_job`` and executes
it in-process against a persistent Dagster instance, so the run, its events and its
materializations show up in the UI afterwards like any other run.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paths
from .defs.automation import JOB_NAME

if TYPE_CHECKING:
    import dagster as dg

#: Dagster's console logger is quiet: progress and the summary come from the events.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
#: How much of a failed step's error the summary keeps (dbt errors carry long tracebacks).
ERROR_LINES = 15


def prepare(home: Path | None = None, inbox: Path | None = None) -> paths.Paths:
    """Point this process at ``home`` and ``inbox``: env vars, folders, Dagster instance, dbt manifest."""
    p = paths.export_env(paths.point_at(home, inbox)).make_dirs()
    os.environ["DAGSTER_HOME"] = str(paths.ensure_dagster_home(p.dagster_home))
    from .dbt_project import ensure_manifest

    ensure_manifest()
    return p


def load_definitions() -> "dg.Definitions":
    """The code location's Definitions, exactly as Dagster's tools load them."""
    from .definitions import defs

    return defs()


@dataclass
class Outcome:
    """A finished run, reduced to what the summary shows."""

    run_id: str
    success: bool
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset key -> metadata values
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, error message)
    checks: dict[str, int] = field(default_factory=dict)  # passed / failed asset checks
    failed_checks: list[str] = field(default_factory=list)  # "asset:check" of each failed check
    dbt_tests: dict[str, int] = field(default_factory=dict)  # passed / warned / failed / kept dbt tests

    def metadata(self, key: str) -> dict[str, Any]:
        return self.materializations.get(key, {})


def run_warehouse(
    instance: "dg.DagsterInstance",
    definitions: "dg.Definitions | None" = None,
    on_event: Callable[[Any], None] | None = None,
    run_id: str | None = None,
) -> Outcome:
    """Execute ``warehouse_job`` in this process; ``on_event`` sees every event as it is stored."""
    definitions = definitions or load_definitions()
    job = definitions.resolve_job_def(JOB_NAME)
    run_id = run_id or str(uuid.uuid4())
    if on_event is not None:
        instance.add_event_listener(run_id, on_event)
    result = job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False, run_config=QUIET_RUN_CONFIG)
    from .dbt_inprocess import tests_tally

    outcome = Outcome(run_id=run_id, success=result.success, dbt_tests=dict(tests_tally(run_id)))
    for event in result.all_events:
        if event.is_step_materialization:
            mat = event.step_materialization_data.materialization
            outcome.materializations[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        elif event.is_step_failure:
            outcome.failures.append((event.step_key or "?", short_error(failure_message(event.step_failure_data))))
        elif event.event_type_value == "STEP_SKIPPED":
            outcome.failures.append((event.step_key or "?", "skipped: an output it needs was not produced"))
            outcome.success = False
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            passed = evaluation.passed
            outcome.checks["passed" if passed else "failed"] = outcome.checks.get("passed" if passed else "failed", 0) + 1
            if not passed:
                outcome.failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return outcome


def failure_message(data: Any) -> str:
    """What went wrong in a failed step: a ``dg.Failure``'s description, else the exception the
    step raised and the errors it wraps (not Dagster's wrapper around it, which says only "Error
    occurred while executing op …": the cause, e.g. an ``OSError`` naming the file, is inside)."""
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return user.description
    error = data.error
    if error is None:
        return "failed"
    while error.cause is not None and "DagsterExecutionStepExecutionError" in (error.cls_name or error.message):
        error = error.cause
    messages = [error.message.strip()]
    cause = error.cause or error.context
    while cause is not None and len(messages) < 6:
        messages.append(cause.message.strip())
        cause = cause.cause or cause.context
    return "\n".join(messages)


def short_error(message: str) -> str:
    """The head of an error message, without the tracebacks it quotes."""
    lines = []
    for line in message.strip().splitlines():
        if line.startswith("Traceback") or len(lines) == ERROR_LINES:
            break
        lines.append(line)
    return "\n".join(lines).strip()


def steps_of(definitions: "dg.Definitions") -> list[str]:
    """The step names of ``warehouse_job``, for a progress bar."""
    return [node.name for node in definitions.resolve_job_def(JOB_NAME).graph.nodes]
