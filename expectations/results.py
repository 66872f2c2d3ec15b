"""What the quality gate says: one outcome per expectation, and the verdict on the run."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .suites import SUITE_VERSION


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars, NaN and timestamps made JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


@dataclass
class ExpectationOutcome:
    """What one expectation said, in the gate's terms (for Dagster and logs)."""

    suite: str
    expectation_type: str
    column: str | None
    rule: str
    level: str  # "run" | "report"
    severity: str  # "blocking" | "warning"
    check_name: str
    success: bool
    evaluated: bool = True  # False when skipped (its batch could not be built)
    element_count: int = 0
    unexpected_count: int = 0
    unexpected_percent: float | None = None
    reports_affected: int = 0
    observed: Any = None
    partial_unexpected: list[Any] = field(default_factory=list)
    exception: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return jsonable(asdict(self))


@dataclass
class GateResult:
    """The gate's verdict on one run."""

    passed: bool
    failures: list[str]
    issues: pd.DataFrame
    summaries: list[ExpectationOutcome]
    decertified: list[str]
    stats: dict[str, Any]
    checked_at: pd.Timestamp
    docs_index: Path | None = None
    suite_version: str = SUITE_VERSION
    suite_fingerprint: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def issues_for(self, check_name: str) -> pd.DataFrame:
        """The issues a Dagster check reports (a rule name; the gate check has none)."""
        return self.issues[self.issues["rule"] == check_name]

    def outcomes_for(self, check_name: str) -> list[ExpectationOutcome]:
        """The expectation outcomes that feed one Dagster check."""
        return [s for s in self.summaries if s.check_name == check_name]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (no issue rows, only their count)."""
        return jsonable({
            "passed": self.passed,
            "failures": self.failures,
            "issue_count": len(self.issues),
            "decertified_count": len(self.decertified),
            "stats": self.stats,
            "checked_at": self.checked_at.isoformat(),
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "suite_version": self.suite_version,
            "suite_fingerprint": self.suite_fingerprint,
            "timings": self.timings,
            "expectations": [s.to_dict() for s in self.summaries],
        })
