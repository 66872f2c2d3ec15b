"""The gate's findings: the ``quality_issues`` table, its one schema, and how a run's issues are made.

One row per broken rule and scope of a report: the rule, its severity, the scope (an
applicant column, a row, a table of the report, or one cell), both sides of the identity
(``expected`` the right-hand side, ``actual`` the left), the residual, the cells that show
it, and ``checked_at``: when the issue was first found (UTC).  An issue found again keeps
its first time, so an unchanged warehouse gives an unchanged table, and an alert names only
the issues that are new.

The file is ``HOME/parquet/quality_issues.parquet``; the marts read it through the dbt
source ``quality.quality_issues``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.atomic import write_parquet_atomic

from .rules import BY_NAME, CAUSES

#: The schema of quality_issues, here and nowhere else.
ISSUES_SCHEMA = pa.schema([
    ("report_id", pa.string()),
    ("rule", pa.string()),  # a rule of expectations/rules.py
    ("severity", pa.string()),  # blocking (holds the table out of the certified marts) or warning
    ("table_name", pa.string()),  # the table the issue concerns: applications, reviews, proactive, or report (all)
    ("scope_kind", pa.string()),  # column | row | report | cell
    ("scope", pa.string()),  # which column / row / table / cell of the report
    ("expected", pa.float64()),  # the identity's right-hand side
    ("actual", pa.float64()),  # its left-hand side
    ("residual", pa.float64()),  # actual - expected
    ("cells", pa.string()),  # the cells that make each side
    ("checked_at", pa.timestamp("us", tz="UTC")),  # when the issue was first found
])
ISSUE_COLUMNS: tuple[str, ...] = tuple(ISSUES_SCHEMA.names)
#: What makes an issue "the same" from one run to the next.
ISSUE_KEY: list[str] = ["report_id", "rule", "scope_kind", "scope"]
_PANDAS_DTYPES = {pa.string(): "str", pa.float64(): "float64", pa.timestamp("us", tz="UTC"): "datetime64[us, UTC]"}


def empty_issues() -> pd.DataFrame:
    """A ``quality_issues`` frame with no rows and the right dtypes."""
    return pd.DataFrame({f.name: pd.Series([], dtype=_PANDAS_DTYPES[f.type]) for f in ISSUES_SCHEMA})


def term_issues(terms: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    t = terms.take(positions)
    return pd.DataFrame({
        "report_id": t["report_id"].to_numpy(),
        "rule": t["rule"].to_numpy(),
        "severity": t["severity"].to_numpy(),
        "table_name": t["table_name"].to_numpy(),
        "scope_kind": t["scope_kind"].to_numpy(),
        "scope": t["scope"].to_numpy(),
        "expected": t["rhs"].to_numpy(dtype="float64"),
        "actual": t["lhs"].to_numpy(dtype="float64"),
        "residual": t["residual"].to_numpy(dtype="float64"),
        "cells": t["cells"].fillna("").astype("str").to_numpy(),
    })

def cell_issues(cells: pd.DataFrame, batch: pd.DataFrame, positions: np.ndarray, rule: str) -> pd.DataFrame:
    c = cells.take(positions)
    value = c["value"].to_numpy(dtype="float64")
    scope = np.asarray(batch["cell_key"].iloc[positions].astype("str"), dtype=object)
    if rule == "value_non_negative":
        expected = np.zeros(len(c))
        residual = value  # distance below the bound 0
    elif rule == "value_integer":
        expected = np.floor(value)
        residual = batch["frac"].to_numpy()[positions]  # what GE judged
    else:  # key_known
        expected = np.full(len(c), np.nan)
        residual = np.full(len(c), np.nan)
    raw = c["raw"].astype("str").to_numpy() if "raw" in c.columns else np.full(len(c), "")
    pos = c["position"].astype("str").to_numpy() if "position" in c.columns else np.full(len(c), "")
    described = [f"{s} raw={r!r} at {p}" if p else f"{s} raw={r!r}" for s, r, p in zip(scope, raw, pos)]
    return pd.DataFrame({
        "report_id": c["report_id"].to_numpy(),
        "rule": rule,
        "severity": BY_NAME[rule].severity,
        "table_name": c["table_name"].to_numpy(),
        "scope_kind": "cell",
        "scope": scope,
        "expected": expected,
        "actual": value,
        "residual": residual,
        "cells": described,
    })

def assemble(parts: list[pd.DataFrame], checked_at: pd.Timestamp) -> pd.DataFrame:
    if not parts:
        return empty_issues()
    issues = pd.concat(parts, ignore_index=True)
    for c in ("report_id", "rule", "severity", "table_name", "scope_kind", "scope", "cells"):
        issues[c] = issues[c].astype("str")
    for c in ("expected", "actual", "residual"):
        issues[c] = issues[c].astype("float64")
    issues["checked_at"] = pd.Series(checked_at, index=issues.index).astype("datetime64[us, UTC]")
    issues = issues[list(ISSUE_COLUMNS)]
    return issues.sort_values(["report_id", "rule", "scope"], kind="stable").reset_index(drop=True)

def with_carried(judged: pd.DataFrame, carried: pd.DataFrame | None) -> pd.DataFrame:
    """This run's issues plus those carried from earlier runs (their own checked_at kept)."""
    if carried is None or carried.empty:
        return judged
    carried = carried[list(ISSUE_COLUMNS)].copy()
    checked = pd.to_datetime(carried["checked_at"])
    # quality_issues.parquet stores UTC without a zone
    carried["checked_at"] = checked.dt.tz_localize("UTC") if checked.dt.tz is None else checked.dt.tz_convert("UTC")
    carried = carried.astype(judged.dtypes.to_dict())
    both = pd.concat([judged, carried], ignore_index=True) if len(judged) else carried
    return both.sort_values(["report_id", "rule", "scope"], kind="stable").reset_index(drop=True)


def quarantined_by_cause(issues: pd.DataFrame) -> dict[str, int]:
    """How many reports each cause of :data:`~expectations.rules.CAUSES` quarantines (a report
    with blocking issues of two causes counts under both)."""
    blocking = issues[issues["severity"] == "blocking"] if len(issues) else issues
    causes = blocking["rule"].map(lambda rule: BY_NAME[rule].cause if rule in BY_NAME else "report")
    counts = blocking.assign(cause=causes).groupby("cause")["report_id"].nunique() if len(blocking) else {}
    return {cause: int(counts.get(cause, 0)) for cause in CAUSES}


def describe_quarantines(by_cause: dict[str, int]) -> str:
    """``"3 reports break their own identities or values; 2 have cells the parser could not read"``."""
    parts = [f"{n} report {CAUSES[cause][0]}" if n == 1 else f"{n} reports {CAUSES[cause][1]}"
             for cause, n in by_cause.items() if n]
    return "; ".join(parts) if parts else "no report quarantined"


def keep_first_found(issues: pd.DataFrame, previous: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``issues`` with each issue found before keeping the time it was first found, and the new ones.

    ``previous`` is the last ``quality_issues`` (None when there is none): an issue is new
    when no previous issue has its :data:`ISSUE_KEY`.
    """
    if previous is None or not len(issues):
        return issues, issues
    seen_before = (previous[[*ISSUE_KEY, "checked_at"]].astype({k: str for k in ISSUE_KEY})
                   .drop_duplicates(ISSUE_KEY))
    merged = issues[ISSUE_KEY].astype(str).merge(seen_before, how="left", on=ISSUE_KEY)
    seen = merged["checked_at"].notna().to_numpy()
    first_found = pd.to_datetime(merged["checked_at"], utc=True).to_numpy()
    kept = issues.assign(checked_at=pd.Series(
        [f if s else c for f, s, c in zip(first_found, seen, issues["checked_at"].to_numpy())],
        index=issues.index).astype(issues["checked_at"].dtype))
    return kept, kept[~seen]


def to_table(issues: pd.DataFrame) -> pa.Table:
    """``quality_issues`` as an Arrow table of :data:`ISSUES_SCHEMA` (0 rows keep the schema)."""
    frame = issues[list(ISSUE_COLUMNS)] if len(issues.columns) else empty_issues()
    return pa.Table.from_pandas(frame, schema=ISSUES_SCHEMA, preserve_index=False)


def read_issues(path: Path) -> pd.DataFrame | None:
    """The issues stored at ``path``, or None when there is no such file."""
    return pq.read_table(path).to_pandas() if path.exists() else None


def write_issues(issues: pd.DataFrame, path: Path) -> None:
    """Write ``quality_issues`` to ``path`` atomically (temporary file, then rename)."""
    write_parquet_atomic(to_table(issues), path)
