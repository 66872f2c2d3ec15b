"""Resources and the executor, alone in this module.

Dagster's defs-folder loader takes only what a module's ``@dg.definitions`` function returns
and ignores everything else defined in it, so this module holds nothing else
(docs/STACK.md).
"""
from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from orchestration import paths, runlog, settings
from orchestration.gate_process import GateProcess
from orchestration.lock import home_lock
from orchestration.side_process import SideProcess


@dg.resource(description="One run at a time per home (HOME/ogi.lock) and the run's log (HOME/logs/runs/).")
def run_guard(context: dg.InitResourceContext) -> Iterator[None]:
    """One run at a time per home, and the run's log file: every asset of the job requires it.

    Initialised once per run by the in-process executor, before the first step: it takes
    the home's lock (waiting, with a message, while another run holds it), removes run logs
    older than ``OGI_LOG_RETENTION_DAYS`` and writes the run's events into
    ``HOME/logs/runs/<run id>.log`` until the run ends.
    """
    p = paths.current().make_dirs()
    run = context.run
    run_id = run.run_id if run is not None else "no-run"
    log = runlog.get(p.home, run_id)
    runlog.prune(p.home, settings.LOG_RETENTION_DAYS.get(), keep=runlog.log_path(p.home, run_id).name)
    job = run.job_name if run is not None else "a job"

    def on_wait(who: str) -> None:
        message = f"waiting for {who} to finish with {p.home}"
        log.write(message)
        if context.log is not None:
            context.log.warning(message)

    with home_lock(p.home, f"run {run_id[:8]} of {job}", on_wait=on_wait):
        if context.instance is not None and run is not None:
            def write(entry) -> None:
                line = runlog.event_line(entry)
                if line is not None:
                    log.write(line)

            context.instance.add_event_listener(run_id, write)
        log.write(f"run {run_id} of {job}: home {p.home}, inbox {p.inbox}")
        try:
            yield None
        finally:
            log.flush()


@dg.resource(
    required_resource_keys={"run_guard"},  # started once the run holds its home
    description="The quality gate's own process, importing Great Expectations from the run's start "
                "(orchestration/gate_process.py; OGI_GATE_PROCESS).",
)
def gate_process(context: dg.InitResourceContext) -> Iterator[GateProcess]:
    """A :class:`~orchestration.gate_process.GateProcess` for the run's gate, ended with the run."""
    process = GateProcess(in_process=not settings.GATE_PROCESS.get())
    try:
        yield process
    finally:
        process.close()


@dg.resource(
    required_resource_keys={"run_guard"},
    description="A process that starts vl-convert's engine from the run's start and draws the inspector's "
                "charts while its pages are written (orchestration/side_process.py).",
)
def chart_process(context: dg.InitResourceContext) -> Iterator[SideProcess]:
    """A :class:`~orchestration.side_process.SideProcess` warmed up by :func:`inspector.charts.warm_up`."""
    from inspector.charts import warm_up

    process = SideProcess(warm_up, purpose="inspector's chart")
    try:
        yield process
    finally:
        process.close()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"run_guard": run_guard, "gate_process": gate_process, "chart_process": chart_process},
        # one process: each step of the multiprocess executor re-imports the code location (~5 s)
        executor=dg.in_process_executor,
    )
