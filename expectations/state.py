"""What the gate keeps from one run to the next, and so what it judges again.

Two files in ``HOME/parquet``, read and written together here and nowhere else:

``quality_issues.parquet``  the last run's issues (:mod:`expectations.issues`): the issues
                            of unchanged reports are carried, and an issue found again keeps
                            the time it was first found.
``quality_judged.parquet``  report_id, fingerprint, judged_with: the fingerprint each current
                            report had when a gate that passed judged it, and the fingerprint
                            of that gate (:func:`expectations.gate.judgement_fingerprint`).

A report is judged again when its fingerprint differs from the one it was judged with.
Everything is judged again when there is no state, when the gate changed, when the issues
file is missing, or when asked to (``full``).

The issues are written first and the fingerprints only after a gate that passed: a crash
between the two writes means more work next time, never a stale verdict, and a failed gate
leaves the fingerprints as they were, so the next run judges the same reports again.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.atomic import write_parquet_atomic

from .issues import empty_issues, read_issues, write_issues

ISSUES_FILE = "quality_issues.parquet"
JUDGED_FILE = "quality_judged.parquet"


@dataclass
class GateScope:
    """What this run's gate judges, and what it carries from earlier runs."""

    judge: list[str]  # report ids to validate, sorted
    carried: pd.DataFrame  # earlier issues of the current reports not judged again
    why: str  # "everything" (first run, another gate, full) or "changed reports"


@dataclass
class GateState:
    """The gate's state in one folder: the last issues and the fingerprints they were judged with."""

    folder: Path
    previous: pd.DataFrame | None  # the last quality_issues, None when there is none
    judged: pd.DataFrame | None  # report_id, fingerprint, judged_with; None when there is none

    @classmethod
    def read(cls, folder: Path) -> "GateState":
        """The state stored in ``folder`` (``HOME/parquet``)."""
        judged_path = folder / JUDGED_FILE
        judged = pq.read_table(judged_path).to_pandas() if judged_path.exists() else None
        return cls(folder, read_issues(folder / ISSUES_FILE), judged)

    @property
    def issues_path(self) -> Path:
        return self.folder / ISSUES_FILE

    def scope(self, fingerprints: pd.DataFrame, judged_with: str, *, full: bool = False) -> GateScope:
        """The reports whose fingerprint (``fingerprints``: report_id, fingerprint of every
        current report) differs from the one they were last judged with by this gate."""
        state = self.judged
        if (full or state is None or self.previous is None or "judged_with" not in state.columns
                or (len(state) and set(state["judged_with"]) != {judged_with})):
            return GateScope(sorted(fingerprints["report_id"]), empty_issues(), "everything")
        same = fingerprints.merge(state[["report_id", "fingerprint"]], on=["report_id", "fingerprint"], how="inner")
        unchanged = set(same["report_id"])
        judge = sorted(set(fingerprints["report_id"]) - unchanged)
        carried = self.previous[self.previous["report_id"].isin(unchanged)].reset_index(drop=True)
        return GateScope(judge, carried, "changed reports")

    def save(self, issues: pd.DataFrame, fingerprints: pd.DataFrame, judged_with: str, *, passed: bool) -> None:
        """Write the run's issues, then, when the gate passed, the fingerprints it judged."""
        write_issues(issues, self.issues_path)
        if passed:
            table = pa.table({
                "report_id": pa.array(fingerprints["report_id"], pa.string()),
                "fingerprint": pa.array(fingerprints["fingerprint"].astype("uint64"), pa.uint64()),
                "judged_with": pa.array([judged_with] * len(fingerprints), pa.string()),
            })
            write_parquet_atomic(table, self.folder / JUDGED_FILE)
