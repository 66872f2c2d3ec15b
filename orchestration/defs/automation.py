"""When the warehouse runs: nightly at 02:00 Beijing time, and when new files land in the inbox."""

import time

import dagster as dg

from orchestration import paths, preflight, runstate, settings
from orchestration.lock import Busy, home_lock

JOB_NAME = "warehouse_job"
#: A file modified less than this many seconds ago may still be being copied in:
#: the sensor waits for the inbox to settle before starting a run.
SETTLE_SECONDS = 30


@dg.failure_hook(name="alert_on_failure")
def alert_on_failure(context: dg.HookContext) -> None:
    """One alert when a step of the warehouse run fails, whatever started the run (schedule, sensor, CLI).

    The quality gate's own verdicts alert from inside the gate asset (with the
    issues listed); this hook covers every other failure (a dbt error, a crash),
    so a failed night never goes unnoticed.
    """
    from expectations.alerts import send_alert

    step = context.step_key or context.op.name
    if "quality_issues" in step and _gate_alerted(context.run_id):
        return  # the gate has sent its own alert, naming the issues (a gate that crashed first has not)
    error = context.op_exception
    message = f"{type(error).__name__}: {error}" if error else "step failed"
    after = ("the warehouse was published; the inspector's site is left as it was" if step == "inspector"
             else "the published warehouse is unchanged")
    alert = {
        "kind": "ogi.run_failure",
        "run_id": context.run_id,
        "level": "error",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "step": step,
        "error": message[:4000],
        "summary": f"ogi run {context.run_id}: step {step} failed; {after}",
    }
    send_alert(alert, paths.current().home, settings.ALERT_WEBHOOK.get())


def _gate_alerted(run_id: str) -> bool:
    """Whether the quality gate of run ``run_id`` wrote its alert (the last lines of alerts.jsonl)."""
    import json

    from expectations.alerts import ALERT_KIND, ALERTS_FILE

    path = paths.current().home / ALERTS_FILE
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 1_000_000))
            tail = fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return False
    for line in reversed(tail):
        try:
            alert = json.loads(line)
        except ValueError:
            continue
        if alert.get("run_id") == run_id and alert.get("kind") == ALERT_KIND:
            return True
    return False


warehouse_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    hooks={alert_on_failure},
    description="Everything: inventory and raw copies, parsing, dbt, the quality gate, publishing.",
)

@dg.schedule(
    name="nightly_warehouse",
    job=warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The whole warehouse, every night at 02:00 Beijing time, unless nothing is new since the "
                "last successful run.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    p = paths.current()
    verdict = runstate.check(p)
    if verdict.nothing_new:
        return dg.SkipReason(verdict.reason)
    return dg.RunRequest()


@dg.sensor(
    job=warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run for files the last successful run has not seen, once the inbox has settled; "
                "skips while another run works on the home.",
)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    p = paths.current()
    try:
        preflight.check_inbox(p.inbox)
    except preflight.PreflightError as exc:
        return dg.SkipReason(str(exc))
    try:
        with home_lock(p.home, "the inbox sensor", wait=False):
            pass
    except Busy as exc:
        return dg.SkipReason(f"a run is in progress: {exc}")
    plan = runstate.sensor_plan(p)
    if plan.skip:
        return dg.SkipReason(plan.reason)
    if time.time() - plan.newest_mtime < SETTLE_SECONDS:
        return dg.SkipReason(f"files still landing in {p.inbox}; waiting {SETTLE_SECONDS} s for the inbox to settle")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=plan.run_key, tags={"ogi/reason": plan.reason[:200]})],
                           cursor=plan.run_key)
