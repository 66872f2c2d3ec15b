"""Great Expectations gate result -> Dagster asset checks.

(dagster-ge, the official adapter, requires Great Expectations 0.x and pandas < 3, so the
gate brings its own.)

One Dagster check per name in :func:`expectations.suites.check_names`:

``quality_gate``         the run-level verdict (schema, unknown rules, share of
                         bad files/reports).  Severity ERROR: declared
                         ``blocking=True``, a failure stops the run downstream.
``<rule>``               one per rule (identity_1_balance ... template_year,
                         value_non_negative, value_integer, key_known).
                         Severity WARN: a failure quarantines reports (or
                         records warnings); it never stops the run.

Dagster is imported inside the functions, like Great Expectations.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from .results import GateResult, jsonable
from .rules import BY_NAME
from .suites import GATE_CHECK_NAME, check_names

if TYPE_CHECKING:  # pragma: no cover
    import dagster as dg

#: Columns of the issue sample shown on a rule check.
SAMPLE_COLUMNS = ("report_id", "scope", "expected", "actual", "residual", "cells")


def _description(name: str) -> str:
    if name == GATE_CHECK_NAME:
        return ("Run-level quality gate (Great Expectations): schema of int_identity_terms and stg_cells, "
                "known rules, and the share of unparseable files / decertified reports "
                "(max: env OGI_MAX_BAD_SHARE, default 0.5). Blocking.")
    spec = BY_NAME[name]
    what = "quarantines the reports that break it" if spec.severity == "blocking" else "warning only"
    return f"{name} ({spec.severity}, {what}): {spec.description}"


def gate_check_specs(asset_key: "dg.AssetKey | str | Sequence[str]", *,
                     blocking: bool = True) -> list["dg.AssetCheckSpec"]:
    """The ``AssetCheckSpec`` of every check the gate reports, for ``@asset(check_specs=...)``
    or ``@multi_asset_check(specs=...)``.  Only ``quality_gate`` is blocking."""
    import dagster as dg

    return [
        dg.AssetCheckSpec(name, asset=asset_key, description=_description(name),
                          blocking=blocking and name == GATE_CHECK_NAME)
        for name in check_names()
    ]


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a GitHub markdown table (no tabulate needed)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _sample(issues: pd.DataFrame, n: int) -> pd.DataFrame:
    return issues.loc[:, [c for c in SAMPLE_COLUMNS if c in issues.columns]].head(n)


def _gate_check(result: GateResult, asset_key: Any) -> "dg.AssetCheckResult":
    import dagster as dg

    stats = jsonable(result.stats)
    failed_run = [o.to_dict() for o in result.summaries if o.level == "run" and not o.success]
    metadata: dict[str, Any] = {
        "passed": result.passed,
        "failures": dg.MetadataValue.json(list(result.failures)),
        "report_count": int(stats["report_count"]),
        "decertified_count": int(stats["decertified_count"]),
        "decertified_share": float(stats["decertified_share"]),
        "parse_error_count": int(stats["parse_error_count"]),
        "parse_failure_share": float(stats["parse_failure_share"]),
        "bad_share": float(stats["bad_share"]),
        "max_bad_share": float(stats["max_bad_share"]),
        "issue_count": int(stats["issue_count"]),
        "warning_issue_count": int(stats["warning_issue_count"]),
        "failed_run_expectations": dg.MetadataValue.json(failed_run),
        "suite_version": result.suite_version,
        "suite_fingerprint": result.suite_fingerprint,
        "checked_at": result.checked_at.isoformat(),
        "gate_seconds": float(round(result.timings.get("total_s", 0.0), 3)),
    }
    if result.docs_index is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(result.docs_index))
    description = ("quality gate passed" if result.passed
                   else "quality gate FAILED: " + "; ".join(result.failures))
    return dg.AssetCheckResult(asset_key=asset_key, check_name=GATE_CHECK_NAME, passed=result.passed,
                               severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
                               description=description[:2000])


def _rule_check(result: GateResult, asset_key: Any, name: str, sample_size: int) -> "dg.AssetCheckResult":
    import dagster as dg

    outcomes = [o for o in result.outcomes_for(name) if o.level == "report"]
    evaluated = bool(outcomes) and all(o.evaluated for o in outcomes)
    errors = [o.exception for o in outcomes if o.exception]
    passed = evaluated and not errors and all(o.success for o in outcomes)
    issues = result.issues_for(name)
    sample = _sample(issues, sample_size)
    spec_severity = BY_NAME[name].severity
    residual = issues["residual"]
    metadata: dict[str, Any] = {
        "rule_severity": spec_severity,
        "evaluated": evaluated,
        "element_count": int(sum(o.element_count for o in outcomes)),
        "unexpected_count": int(sum(o.unexpected_count for o in outcomes)),
        "issue_count": int(len(issues)),
        "reports_affected": int(issues["report_id"].nunique()),
        "residual_min": float(residual.min()) if residual.notna().any() else None,
        "residual_max": float(residual.max()) if residual.notna().any() else None,
        "sample": dg.MetadataValue.md(markdown_table(sample) if len(sample) else "_no unexpected rows_"),
        "sample_json": dg.MetadataValue.json(jsonable(json.loads(sample.to_json(orient="records")))),
        "suite": outcomes[0].suite if outcomes else "",
        "suite_version": result.suite_version,
    }
    if result.docs_index is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(result.docs_index))
    if not evaluated:
        why = "; ".join(str(o.observed) for o in outcomes if not o.evaluated) or "no expectation ran"
        description = f"{name}: not evaluated ({why})"
    elif errors:
        description = f"{name}: expectation raised: {'; '.join(errors)}"
    elif passed:
        description = f"{name}: every row meets the rule"
    else:
        verb = "quarantined" if spec_severity == "blocking" else "flagged (warning)"
        description = (f"{name}: {len(issues)} unexpected rows; "
                       f"{metadata['reports_affected']} reports {verb}")
    return dg.AssetCheckResult(asset_key=asset_key, check_name=name, passed=passed,
                               severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                               description=description)


def to_asset_check_results(result: GateResult, asset_key: "dg.AssetKey | str | Sequence[str]", *,
                           sample_size: int = 10) -> list["dg.AssetCheckResult"]:
    """One ``AssetCheckResult`` per check of :func:`gate_check_specs`, in the same order.

    ``quality_gate``: ERROR severity, passed = the run-level verdict.
    Each rule: WARN severity, passed = no row broke it; metadata carries the
    unexpected count, the reports affected and a sample of the issue rows
    (markdown and JSON).
    """
    import dagster as dg

    key = dg.AssetKey.from_coercible(asset_key) if not isinstance(asset_key, dg.AssetKey) else asset_key
    out = [_gate_check(result, key)]
    out += [_rule_check(result, key, name, sample_size) for name in check_names() if name != GATE_CHECK_NAME]
    return out
