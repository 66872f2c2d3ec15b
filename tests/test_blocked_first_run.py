"""A first run that the quality gate blocks: nothing published, and the findings where the summary says.

Real ``ogi synth`` and ``ogi run`` (Dagster, dbt, Great Expectations, DuckDB) in a fresh home: every
report of the inbox breaks an identity, so the run's quarantined share is 100% and the gate stops
the run before the marts. ``ogi issues`` then reads the verdict and the quarantines from the home.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app

OGI = str(Path(sys.executable).parent / "ogi")
REPORTS = 12  # at least OGI_GATE_MIN_RUN_FILES (10): the shares are the run's own


@pytest.fixture(scope="module")
def blocked(tmp_path_factory, dbt_manifest: Path) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("blocked")
    env = dict(os.environ, COLUMNS="200")
    synth = subprocess.run([OGI, "synth", "--reports", str(REPORTS), "--out", str(root / "corpus"), "--seed", "3",
                            "--break-share", "1", "--workers", "1"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert synth.returncode == 0, synth.stdout + synth.stderr
    home = root / "home"
    run = subprocess.run([OGI, "run", "--inbox", str(root / "corpus" / "reports"), "--home", str(home)],
                         capture_output=True, text=True, env=env, timeout=900)
    return home, run


def test_blocked_first_run_publishes_nothing_and_names_where_the_findings_are(blocked) -> None:
    home, run = blocked
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Quality gate FAILED" in run.stdout
    assert "nothing has been published yet" in run.stdout and not (home / "warehouse.duckdb").exists()
    # the summary names the real place: ogi issues, and the issues file in the home
    assert f"ogi issues --home {home}" in run.stdout
    assert str(home / "parquet" / "quality_issues.parquet") in run.stdout
    assert (home / "parquet" / "quality_issues.parquet").exists()
    assert not (home / "last_success.json").exists()  # no successful run: the next one runs again


def test_ogi_issues_reads_the_blocked_runs_findings(blocked, monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = blocked
    monkeypatch.setenv("OGI_HOME", str(home))
    shown = CliRunner().invoke(app, ["issues", "--home", str(home)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())  # as read, whatever the terminal's width
    assert "FAILED: the run was blocked" in text and "share" in text
    assert f"{REPORTS} reports quarantined" in text
    as_json = CliRunner().invoke(app, ["issues", "--home", str(home), "--json"])
    found = json.loads(as_json.output)
    verdict = found["verdict"]
    assert verdict["passed"] is False and any("share" in f for f in verdict["failures"])
    assert verdict["quarantined_reports"] == REPORTS
    blocking = [i for i in found["issues"] if i["severity"] == "blocking"]
    assert len({i["report_id"] for i in blocking}) == REPORTS
    assert all(i["source_file"] and i["agency"] and i["year"] for i in blocking)  # joined with the parsed reports
    assert {"rule", "scope", "expected", "actual", "residual"} <= set(blocking[0])


def test_ogi_issues_and_sql_on_a_home_without_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGI_HOME", str(tmp_path))
    nothing = CliRunner().invoke(app, ["issues", "--home", str(tmp_path)])
    assert nothing.exit_code == 2 and "no quality gate has run" in nothing.stderr
    no_warehouse = CliRunner().invoke(app, ["sql", "--home", str(tmp_path), "select 1"])
    assert no_warehouse.exit_code == 2 and "ogi issues" in no_warehouse.stderr
