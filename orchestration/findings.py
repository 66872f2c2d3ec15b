"""``ogi issues``: the last quality gate's findings, without the published warehouse.

The gate writes its issues (``HOME/parquet/quality_issues.parquet``) and its run-level
verdict (``HOME/quality/last_gate.json``) whether it passes or blocks the run, and a gate
that blocks a first run leaves no published warehouse to query: this reads both files,
with each report's file, agency and year from the parsed reports, in DuckDB (no Dagster).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths

ISSUES_FILE = "quality_issues.parquet"
VERDICT_FILE = Path("quality") / "last_gate.json"  # defs/quality.py writes it
COLUMNS = ("severity", "source_file", "agency", "year", "rule", "scope_kind", "scope", "expected", "actual",
           "residual", "cells", "checked_at", "report_id")


def verdict_path(home: Path) -> Path:
    """``HOME/quality/last_gate.json``, the last gate's run-level verdict."""
    return Path(home) / VERDICT_FILE


class NoFindings(LookupError):
    """No quality gate has run in this home yet."""


@dataclass
class Findings:
    """The last gate's verdict and its issues (blocking first)."""

    verdict: dict[str, Any]
    issues: list[dict[str, Any]] = field(default_factory=list)
    issues_path: Path | None = None

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i["severity"] == "blocking"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i["severity"] != "blocking"]

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "issues_path": str(self.issues_path) if self.issues_path else None,
                "issues": self.issues}


def load(p: paths.Paths) -> Findings:
    """The findings of the last gate that ran in home ``p``."""
    import duckdb

    verdict_file = verdict_path(p.home)
    issues_file = p.parquet_dir / ISSUES_FILE
    if not verdict_file.exists() and not issues_file.exists():
        raise NoFindings(f"no quality gate has run in {p.home} yet")
    try:
        verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        verdict = {}
    if not issues_file.exists():
        return Findings(verdict)
    reports = sorted(p.parquet_dir.glob("reports*.parquet"))
    con = duckdb.connect()
    try:
        if reports:
            files = ", ".join(f"'{f}'" for f in reports)
            con.execute(f"""create view reports as
                select report_id, any_value(source_file) as source_file, any_value(agency) as agency,
                       any_value(year) as year
                from read_parquet([{files}], union_by_name = true) group by report_id""")
        else:
            con.execute("create view reports as select ''::varchar as report_id, ''::varchar as source_file, "
                        "''::varchar as agency, null::integer as year where false")
        rows = con.execute(f"""
            select i.severity, r.source_file, r.agency, r.year, i.rule, i.scope_kind, i.scope, i.expected,
                   i.actual, i.residual, i.cells, i.checked_at, i.report_id
            from read_parquet('{issues_file}') as i left join reports as r using (report_id)
            order by i.severity = 'blocking' desc, r.source_file, i.rule, i.scope
        """).fetchall()
    finally:
        con.close()
    issues = [dict(zip(COLUMNS, row)) for row in rows]
    for issue in issues:
        if issue["checked_at"] is not None:
            issue["checked_at"] = issue["checked_at"].isoformat()
    return Findings(verdict, issues, issues_file)
