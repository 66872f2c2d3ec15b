"""One alert per run: what the quality gate found, kept on disk and sent to a webhook.

:func:`build_alert` makes the alert (a JSON-able dict listing every issue with
its agency, year, rule, residual and source file, and the inspector's page that shows it);
:func:`send_alert` appends
it as one line to ``HOME/alerts.jsonl`` and, if a webhook URL is configured
(the setting ``OGI_ALERT_WEBHOOK``), POSTs it as JSON with a timeout and retries.  Sending
never raises: failures are logged.  Standard library only.
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import pandas as pd

from .issues import describe_quarantines, quarantined_by_cause
from .results import jsonable

if TYPE_CHECKING:  # pragma: no cover
    from .gate import GateOutcome

log = logging.getLogger(__name__)

#: File, under the warehouse home, that receives one JSON line per alert.
ALERTS_FILE = "alerts.jsonl"
ALERT_KIND = "ogi.quality_alert"
ALERT_VERSION = 1

#: Issue fields listed in an alert, in order.
ALERT_ISSUE_FIELDS = ("report_id", "agency", "agency_id", "year", "source_file", "rule", "severity", "scope_kind",
                      "scope", "expected", "actual", "residual", "cells")

def build_alert(
    run_id: str,
    issues_df: pd.DataFrame,
    gate_failures: Iterable[str],
    reports_df: pd.DataFrame | None = None,
    *,
    stats: dict[str, Any] | None = None,
    docs_index: str | os.PathLike[str] | None = None,
    page_for: Callable[[Mapping[str, Any]], str | None] | None = None,
    inspector_index: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The alert of one run.

    Args:
        run_id: the run (e.g. the Dagster run id).
        issues_df: the gate's ``quality_issues`` frame.
        gate_failures: the run-level reasons (``GateResult.failures``); empty if the gate passed.
        reports_df: the run's reports (``report_id``, ``agency``, ``agency_id``, ``year``,
            ``source_file``) to name each issue's agency (and body), year and file.
        stats: optional ``GateResult.stats`` to include.
        docs_index: optional path of the Data Docs index.
        page_for: optional, the inspector's page of an issue (``inspector.links.issue_page``):
            each issue gets it as ``inspector_page`` when the gate passed (a run whose gate
            fails publishes nothing, so the site is not rebuilt).
        inspector_index: optional path of the inspector's overview (``inspector``), likewise.

    Returns:
        ``{"kind", "version", "run_id", "created_at", "level", "gate_passed",
        "gate_failures", "issue_count", "reports_affected", "decertified_count",
        "summary", "issues": [...], ...}``; ``level`` is ``error`` when the gate
        failed, ``warning`` when there are issues, else ``ok``.
    """
    failures = [str(f) for f in gate_failures]
    issues = issues_df.copy() if issues_df is not None else pd.DataFrame(columns=["report_id"])
    if reports_df is not None and len(reports_df) and "report_id" in reports_df.columns and len(issues):
        keep = [c for c in ("report_id", "agency", "agency_id", "year", "source_file") if c in reports_df.columns]
        meta = reports_df[keep].drop_duplicates("report_id")
        meta = meta.assign(report_id=meta["report_id"].astype("str"))
        issues = issues.assign(report_id=issues["report_id"].astype("str")).merge(
            meta, on="report_id", how="left", suffixes=("", "_report"))
    rows = []
    for rec in issues.to_dict(orient="records"):
        item = {k: jsonable(rec.get(k)) for k in ALERT_ISSUE_FIELDS}
        if isinstance(item["year"], float) and item["year"].is_integer():
            item["year"] = int(item["year"])
        if page_for is not None and not failures:
            item["inspector_page"] = page_for(item)
        rows.append(item)
    n_reports = int(issues["report_id"].nunique()) if len(issues) else 0
    decert = (int(issues.loc[issues["severity"] == "blocking", "report_id"].nunique())
              if len(issues) and "severity" in issues.columns else 0)
    level = "error" if failures else ("warning" if rows else "ok")
    by_cause = quarantined_by_cause(issues) if len(issues) and "severity" in issues.columns else {}
    summary = (f"ogi run {run_id}: quality gate {'FAILED' if failures else 'passed'}"
               f"{' (' + '; '.join(failures) + ')' if failures else ''}; "
               f"{len(rows)} issues in {n_reports} reports, {decert} decertified"
               f"{': ' + describe_quarantines(by_cause) if decert else ''}")
    alert: dict[str, Any] = {
        "kind": ALERT_KIND,
        "version": ALERT_VERSION,
        "run_id": str(run_id),
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "level": level,
        "gate_passed": not failures,
        "gate_failures": failures,
        "issue_count": len(rows),
        "reports_affected": n_reports,
        "decertified_count": decert,
        "decertified_by_cause": by_cause,
        "summary": summary,
        "issues": rows,
    }
    if stats is not None:
        alert["stats"] = {k: jsonable(v) for k, v in stats.items()}
    if docs_index is not None:
        alert["data_docs"] = str(docs_index)
    if inspector_index is not None and not failures:
        alert["inspector"] = str(inspector_index)
    return alert


def _post(url: str, body: bytes, timeout: float) -> int:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "User-Agent": "ogi-warehouse-alerts/1"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (scheme checked by caller)
        resp.read(65536)
        return int(resp.status)


def send_alert(
    alert: dict[str, Any],
    home: Path,
    webhook_url: str | None = None,
    timeout: float = 5,
    retries: int = 3,
    backoff: float = 0.5,
) -> dict[str, Any]:
    """Append ``alert`` to ``home/alerts.jsonl`` and POST it to the webhook, if any; never raises.

    Args:
        alert: from :func:`build_alert`.
        home: the warehouse home directory (created if missing).
        webhook_url: http(s) URL (the setting ``OGI_ALERT_WEBHOOK``); ``None`` or empty:
            no webhook.
        timeout: seconds per HTTP attempt.
        retries: attempts in all (at least 1).  4xx answers other than 408/429
            are not retried.
        backoff: sleep before attempt k+1 is ``backoff * 2**(k-1)`` seconds.
            Worst case: ``retries * timeout + backoff * (2**(retries-1) - 1)``.

    Returns:
        ``{"jsonl": path, "written": bool, "webhook": "skipped"|"delivered"|"failed",
        "attempts": n, "status": http status or None, "error": str or None}``.
    """
    out: dict[str, Any] = {"jsonl": None, "written": False, "webhook": "skipped", "attempts": 0,
                           "status": None, "error": None}
    body = json.dumps(alert, ensure_ascii=False, default=str)
    try:
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        path = home / ALERTS_FILE
        with path.open("a", encoding="utf-8") as fh:
            fh.write(body + "\n")
        out.update(jsonl=str(path), written=True)
    except OSError as exc:  # the alert must never break the run
        log.error("could not append the alert to %s: %s", Path(home) / ALERTS_FILE, exc)
        out["error"] = f"jsonl: {exc}"

    if not webhook_url:
        return out
    if not webhook_url.lower().startswith(("http://", "https://")):
        log.error("alert webhook %r is not an http(s) URL; not sent", webhook_url)
        out.update(webhook="failed", error="webhook URL is not http(s)")
        _record_failed_delivery(alert, home, out)
        return out

    data = body.encode("utf-8")
    attempts = max(int(retries), 1)
    for attempt in range(1, attempts + 1):
        out["attempts"] = attempt
        try:
            status = _post(webhook_url, data, timeout)
            out.update(webhook="delivered", status=status, error=None)
            log.info("alert for run %s delivered to webhook (HTTP %s)", alert.get("run_id"), status)
            return out
        except urllib.error.HTTPError as exc:
            out.update(status=exc.code, error=f"HTTP {exc.code}: {exc.reason}")
            retryable = exc.code >= 500 or exc.code in (408, 429)
        except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, DNS, timeout, bad URL
            out["error"] = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            retryable = not isinstance(exc, ValueError)
        log.warning("alert webhook attempt %d/%d failed: %s", attempt, attempts, out["error"])
        if not retryable or attempt == attempts:
            break
        time.sleep(backoff * 2 ** (attempt - 1))
    out["webhook"] = "failed"
    log.error("alert for run %s not delivered to the webhook after %d attempts: %s",
              alert.get("run_id"), out["attempts"], out["error"])
    _record_failed_delivery(alert, home, out)
    return out


#: The kind of the line that records an alert the webhook did not receive.
DELIVERY_FAILED_KIND = "ogi.alert_delivery_failed"


def _record_failed_delivery(alert: dict[str, Any], home: Path, out: dict[str, Any]) -> None:
    """One more line in alerts.jsonl: the alert of this run was not delivered, and why."""
    line = {"kind": DELIVERY_FAILED_KIND, "run_id": alert.get("run_id"), "alert_kind": alert.get("kind"),
            "alert_created_at": alert.get("created_at"), "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "attempts": out["attempts"], "status": out["status"], "error": out["error"]}
    try:
        with (Path(home) / ALERTS_FILE).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:
        log.error("could not record the failed delivery in %s: %s", Path(home) / ALERTS_FILE, exc)


def alert_for(outcome: "GateOutcome", run_id: str, home: Path, webhook_url: str | None = None, *,
              page_for: Callable[[Mapping[str, Any]], str | None] | None = None,
              inspector_index: str | os.PathLike[str] | None = None
              ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Send the alert of a gate run that found new issues or failed.

    Returns the alert and what :func:`send_alert` says of its delivery; ``(None, None)`` when
    the run needs no alert.  ``page_for`` and ``inspector_index`` link the alert to the
    inspector's pages (see :func:`build_alert`).
    """
    result = outcome.result
    if result.passed and outcome.new_issues.empty:
        return None, None
    alert = build_alert(run_id, outcome.new_issues, result.failures, outcome.reports,
                        stats=result.stats, docs_index=result.docs_index, page_for=page_for,
                        inspector_index=inspector_index)
    alert["total_issue_count"] = int(len(result.issues))
    return alert, send_alert(alert, home, webhook_url)
