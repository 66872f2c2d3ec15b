"""The quality gate with real Great Expectations (no mocks): issues, run verdicts, docs, Dagster, alerts."""
from __future__ import annotations

import http.server
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expectations.alerts import ALERTS_FILE, build_alert, send_alert
from expectations.issues import ISSUE_COLUMNS, write_issues
from expectations.results import GateResult
from expectations.rules import BY_NAME
from expectations.run import run_gate, run_gate_parts
from expectations.suites import (
    GATE_CHECK_NAME,
    SUITE_FINGERPRINT,
    SUITE_VERSION,
    TERM_RULES,
    check_names,
    suites_fingerprint,
)
from ingestion.record import Report
from ingestion.schema import cell_rows
from ingestion.templates import APPLICANT_COLUMNS, NON_OUTCOME_ROWS, REVIEW_COLUMNS

REPO = Path(__file__).resolve().parents[1]
HZQ2023 = REPO / "tests" / "fixtures" / "realworld" / "golden" / "hzq2023.txt.json"


# --------------------------------------------------------------------------- fixtures
# The terms below stand in for the dbt model int_identity_terms: tests only build
# inputs; every verdict comes from the gate (Great Expectations).


def term(report_id: str, rule: str, scope: str, lhs: float, rhs: float, *, severity: str = "blocking",
         scope_kind: str = "row", cells: str = "", table_name: str | None = None) -> dict[str, Any]:
    table = table_name or BY_NAME[rule].table
    return {"report_id": report_id, "rule": rule, "severity": severity, "table_name": table,
            "scope_kind": scope_kind, "scope": scope, "lhs": float(lhs), "rhs": float(rhs),
            "residual": float(lhs) - float(rhs), "cells": cells or f"{rule}[{scope}]"}


def clean_terms(report_ids: list[str]) -> list[dict[str, Any]]:
    """Every rule once per report, all holding."""
    rows = []
    for rid in report_ids:
        for spec in TERM_RULES:
            rows.append(term(rid, spec.name, "total", 7, 7, severity=spec.severity))
    return rows


def terms_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["report_id", "rule", "severity", "table_name", "scope_kind", "scope",
                                       "lhs", "rhs", "residual", "cells"])


def cells_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["report_id", "table_name", "row_key", "col_key", "value", "raw",
                                       "position"]).astype({"value": "float64"})


def no_cells() -> pd.DataFrame:
    return cells_frame([])


def terms_from_record(report_id: str, obj: dict[str, Any]) -> pd.DataFrame:
    """Identity terms 1-4 of one contract record (what int_identity_terms holds for it)."""
    apps = {k: [0 if v is None else v for v in row] for k, row in obj["applications"].items()}
    rows = []
    for i, col in enumerate(APPLICANT_COLUMNS):
        rows.append(term(report_id, "identity_1_balance", col,
                         apps["new_received"][i] + apps["carried_over"][i],
                         apps["total"][i] + apps["carried_forward"][i], scope_kind="column"))
        outcomes = sum(row[i] for k, row in apps.items() if k not in NON_OUTCOME_ROWS)
        rows.append(term(report_id, "identity_2_outcomes", col, apps["total"][i], outcomes, scope_kind="column"))
    for key, row in apps.items():
        rows.append(term(report_id, "identity_3_applicants", key, row[6], sum(row[:6])))
    for key, row in obj["reviews"].items():
        row = [0 if v is None else v for v in row]
        t = dict(zip(REVIEW_COLUMNS, row))
        rows.append(term(report_id, "identity_4_reviews", key, t["total"],
                         t["upheld"] + t["corrected"] + t["other"] + t["pending"],
                         cells=f"reviews.{key}: total = upheld + corrected + other + pending"))
    return terms_frame(rows)


@pytest.fixture(scope="module")
def hzq2023() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    obj = json.loads(HZQ2023.read_text(encoding="utf-8"))
    rid = "hzq2023"
    cells = pd.DataFrame(cell_rows(Report.from_json(obj), report_id=rid)).astype({"value": "float64"})
    return terms_from_record(rid, obj), cells, obj


# --------------------------------------------------------------------------- issues from GE


def test_one_broken_identity_gives_exactly_that_row() -> None:
    rows = clean_terms(["r1", "r2", "r3"])
    rows.append(term("r2", "identity_1_balance", "commercial", 12, 15, scope_kind="column",
                     cells="applications.new_received.commercial + carried_over = total + carried_forward"))
    result = run_gate(terms_frame(rows), no_cells(), max_bad_share=0.5)

    assert isinstance(result, GateResult)
    assert list(result.issues.columns) == list(ISSUE_COLUMNS)
    assert len(result.issues) == 1
    issue = result.issues.iloc[0]
    assert (issue.report_id, issue.rule, issue.severity, issue.scope_kind, issue.scope) == \
        ("r2", "identity_1_balance", "blocking", "column", "commercial")
    assert (issue.expected, issue.actual, issue.residual) == (15.0, 12.0, -3.0)
    assert issue.cells.startswith("applications.new_received.commercial")
    assert str(result.issues["checked_at"].dtype) == "datetime64[us, UTC]"
    assert result.issues["checked_at"].iloc[0] == result.checked_at
    assert result.decertified == ["r2"]
    assert result.passed, result.failures  # 1 of 3 reports decertified <= 0.5
    ident1 = [s for s in result.summaries if s.rule == "identity_1_balance"]
    assert [(s.success, s.unexpected_count, s.reports_affected) for s in ident1] == [(False, 1, 1)]


def test_hzq2023_review_identity_breaks(hzq2023) -> None:
    terms, cells, _ = hzq2023
    result = run_gate(terms, cells)
    got = result.issues[["report_id", "rule", "scope", "expected", "actual", "residual"]]
    assert got.to_dict(orient="records") == [
        {"report_id": "hzq2023", "rule": "identity_4_reviews", "scope": "litigation_after_reconsideration",
         "expected": 5.0, "actual": 0.0, "residual": -5.0},
        {"report_id": "hzq2023", "rule": "identity_4_reviews", "scope": "reconsideration",
         "expected": 11.0, "actual": 0.0, "residual": -11.0},
    ]
    # its cells are clean: 7730.28 (amount_10k_yuan) is a decimal amount, not a broken count
    assert not result.issues["rule"].str.startswith(("value_", "key_")).any()
    assert result.decertified == ["hzq2023"]
    assert not result.passed  # the run's only report is decertified: 1/1 > 0.5
    assert any(f.startswith("run_decertified_share") for f in result.failures)


def test_warning_rules_do_not_decertify() -> None:
    rows = clean_terms(["r1", "r2"])
    rows.append(term("r1", "template_year", "report", 2019, 2021, severity="warning", scope_kind="report"))
    rows.append(term("r2", "identity_5_carry_over", "total", 4, 9, severity="warning", scope_kind="column"))
    result = run_gate(terms_frame(rows), no_cells())
    assert sorted(result.issues["rule"]) == ["identity_5_carry_over", "template_year"]
    assert set(result.issues["severity"]) == {"warning"}
    assert result.decertified == []
    assert result.passed


def test_value_rules_on_cells() -> None:
    cells = cells_frame([
        ("r1", "applications", "granted", "natural_person", -2.0, "-2", "line 40"),
        ("r1", "applications", "granted", "total", 3.5, "3.5", "line 41"),
        ("r1", "applications", "denied_state_secret", "total", np.nan, "", "line 42"),
        ("r2", "proactive", "licensing", "change", -4.0, "-4", "table 2 row 3 col 2"),
        ("r2", "proactive", "fees", "amount_10k_yuan", 7730.28, "7730.28", "table 2 row 6 col 1"),
        ("r2", "reviews", "reconsideration", "upheld", 10.0, "10", "line 80"),
        ("r3", "proactive", "fees", "issued", 1.0, "1", "line 9"),
        ("r3", "tables", "granted", "total", 1.0, "1", "line 10"),
    ])
    result = run_gate(terms_frame(clean_terms(["r1", "r2", "r3"])), cells, max_bad_share=1.0)
    got = result.issues[["report_id", "rule", "scope_kind", "scope", "expected", "actual", "residual"]]
    records = got.to_dict(orient="records")
    assert records[:2] == [
        {"report_id": "r1", "rule": "value_integer", "scope_kind": "cell", "scope": "applications.granted.total",
         "expected": 3.0, "actual": 3.5, "residual": 0.5},
        {"report_id": "r1", "rule": "value_non_negative", "scope_kind": "cell",
         "scope": "applications.granted.natural_person", "expected": 0.0, "actual": -2.0, "residual": -2.0},
    ]
    assert [(r["report_id"], r["rule"], r["scope"]) for r in records[2:]] == [
        ("r3", "key_known", "proactive.fees.issued"),
        ("r3", "key_known", "tables.granted.total"),
    ]
    assert "raw='-2' at line 40" in result.issues.iloc[1]["cells"]
    # dbt's stg_cells names the provenance columns raw_token / source_position
    dbt_cells = cells.rename(columns={"raw": "raw_token", "position": "source_position"})
    again = run_gate(terms_frame(clean_terms(["r1", "r2", "r3"])), dbt_cells, max_bad_share=1.0)
    pd.testing.assert_frame_equal(again.issues.drop(columns="checked_at"),
                                  result.issues.drop(columns="checked_at"))
    assert result.decertified == ["r1", "r3"]
    assert result.passed  # max share 1.0


def _mixed_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Terms and cells of six reports, three of them broken in different ways."""
    ids = [f"r{i}" for i in range(1, 7)]
    rows = clean_terms(ids)
    rows.append(term("r2", "identity_1_balance", "commercial", 12, 15, scope_kind="column"))
    rows.append(term("r5", "identity_4_reviews", "litigation", 3, 1))
    cells = cells_frame([(rid, "applications", "granted", "total", 1.0, "1", "line 1") for rid in ids]
                        + [("r4", "applications", "granted", "natural_person", -2.0, "-2", "line 2"),
                           ("r5", "applications", "granted", "legal_person", 0.5, "0.5", "line 3")])
    return terms_frame(rows), cells


def test_parts_give_the_verdict_of_the_whole() -> None:
    """The gate validates a large run slice by slice: same issues, counts and verdict as at once."""
    terms, cells = _mixed_inputs()
    whole = run_gate(terms, cells, max_bad_share=1.0)
    slices = [["r1", "r2"], ["r3", "r4"], ["r5", "r6"]]
    parts = ((terms[terms["report_id"].isin(s)], cells[cells["report_id"].isin(s)]) for s in slices)
    sliced = run_gate_parts(parts, max_bad_share=1.0)
    pd.testing.assert_frame_equal(sliced.issues.drop(columns="checked_at"), whole.issues.drop(columns="checked_at"))
    assert sliced.decertified == whole.decertified == ["r2", "r4", "r5"]
    assert sliced.stats["parts"] == 3 and whole.stats["parts"] == 1
    for key in ("report_count", "decertified_count", "issue_count", "decertified_share"):
        assert sliced.stats[key] == whole.stats[key], key
    counts = {(s.suite, s.rule): (s.success, s.element_count, s.unexpected_count, s.reports_affected)
              for s in whole.summaries}
    assert {(s.suite, s.rule): (s.success, s.element_count, s.unexpected_count, s.reports_affected)
            for s in sliced.summaries} == counts
    assert counts[("ogi.rule.identity_1_balance", "identity_1_balance")] == (False, 7, 1, 1)
    # a broken slice fails the run, whichever part it is in
    assert not run_gate_parts(iter([(terms, cells)]), max_bad_share=0.4).passed


def test_carried_issues_count_in_the_verdict_but_are_not_judged_again() -> None:
    """An incremental run judges the changed reports; unchanged ones keep their earlier issues."""
    terms, cells = _mixed_inputs()
    earlier = run_gate(terms, cells, max_bad_share=1.0).issues
    earlier = earlier.assign(checked_at=pd.Timestamp("2026-01-02", tz="UTC"))
    changed = ["r5", "r6"]
    carried = earlier[~earlier["report_id"].isin(changed)]
    reports = pd.DataFrame({"report_id": [f"r{i}" for i in range(1, 7)]})
    result = run_gate(terms[terms["report_id"].isin(changed)], cells[cells["report_id"].isin(changed)],
                      reports=reports, carried_issues=carried, max_bad_share=0.4)
    # r2 and r4 carried with their first checked_at, r5 judged now
    assert sorted(set(result.issues["report_id"])) == ["r2", "r4", "r5"]
    assert (result.issues.loc[result.issues["report_id"] != "r5", "checked_at"]
            == pd.Timestamp("2026-01-02", tz="UTC")).all()
    assert (result.issues.loc[result.issues["report_id"] == "r5", "checked_at"] == result.checked_at).all()
    assert result.decertified == ["r2", "r4", "r5"]
    assert result.stats["judged_report_count"] == 2
    assert result.stats["carried_issue_count"] == len(carried)
    # 3 of 6 reports quarantined: above a max share of 0.4 although only one was judged now
    assert result.stats["decertified_share"] == 0.5 and not result.passed
    # GE validated only the judged reports' rows
    ident4 = [s for s in result.summaries if s.rule == "identity_4_reviews"]
    assert [(s.element_count, s.unexpected_count) for s in ident4] == [(3, 1)]


def test_judgement_fingerprint_follows_what_a_verdict_depends_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The incremental gate judges everything again when the rules, keys or fields the cells obey change."""
    import expectations.gate as gate_module
    from expectations.gate import judgement_fingerprint

    first = judgement_fingerprint()
    assert judgement_fingerprint() == first and len(first) == 64
    monkeypatch.setattr(gate_module, "SIGNED_FIELDS", frozenset({"change", "in_force"}))
    assert judgement_fingerprint() != first
    monkeypatch.undo()
    monkeypatch.setattr("expectations.suites.known_cell_keys", lambda: ("applications.granted.total",))
    assert judgement_fingerprint() != first


def test_no_parts_still_checks_the_structure() -> None:
    """Nothing changed: the structure and run suites still run (and report) on empty frames."""
    result = run_gate_parts(iter(()), reports=pd.DataFrame({"report_id": ["r1"]}))
    assert result.passed and result.stats["parts"] == 1 and result.stats["judged_report_count"] == 0
    assert {s.suite for s in result.summaries} >= {"ogi.terms.structure", "ogi.cells.structure", "ogi.run.shares"}


# --------------------------------------------------------------------------- run-level verdicts


def test_run_gate_trips_above_the_decertified_share() -> None:
    ids = ["r1", "r2", "r3", "r4"]
    half = clean_terms(ids) + [term(r, "identity_4_reviews", "reconsideration", 0, 3) for r in ids[:2]]
    result = run_gate(terms_frame(half), no_cells())
    assert result.stats["decertified_share"] == 0.5
    assert result.passed, result.failures  # exactly 50% is not above 50%

    more = half + [term("r3", "identity_2_outcomes", "total", 5, 4, scope_kind="column")]
    result = run_gate(terms_frame(more), no_cells())
    assert result.stats["decertified_share"] == 0.75
    assert not result.passed
    assert any(f.startswith("run_decertified_share") for f in result.failures)
    gate = [s for s in result.summaries if s.rule == "run_decertified_share"]
    assert gate and not gate[0].success  # GE judged the share


def test_run_gate_max_share() -> None:
    rows = clean_terms(["r1", "r2", "r3"]) + [term("r1", "identity_4_reviews", "reconsideration", 0, 3)]
    result = run_gate(terms_frame(rows), no_cells(), max_bad_share=0.2)
    assert result.stats["max_bad_share"] == 0.2
    assert not result.passed
    assert run_gate(terms_frame(rows), no_cells(), max_bad_share=0.4).passed


def test_run_gate_trips_on_parse_failures() -> None:
    terms = terms_frame(clean_terms(["r1", "r2"]))
    reports = pd.DataFrame({"report_id": ["r1", "r2"]})
    ok = run_gate(terms, no_cells(), reports=reports, parse_error_count=2, file_count=4)
    assert ok.stats["parse_failure_share"] == 0.5 and ok.passed, ok.failures
    bad = run_gate(terms, no_cells(), reports=reports, parse_error_count=3, file_count=5)
    assert bad.stats["parse_failure_share"] == 0.6
    assert not bad.passed
    assert any(f.startswith("run_parse_failure_share") for f in bad.failures)
    assert len(bad.issues) == 0  # a run-level failure is not a report issue


@pytest.mark.parametrize("breakage, reason", [
    (lambda t: t.drop(columns=["residual"]), "schema_terms_columns"),
    (lambda t: t.assign(rule=t["rule"].where(t.index != 0, "identity_9_made_up")), "schema_terms_rule_known"),
    (lambda t: t.assign(severity="warning"), "schema_terms_rule_known"),
    (lambda t: t.assign(severity="fatal"), "schema_terms_severity"),
    (lambda t: t.assign(residual=t["residual"].where(t.index != 1)), "schema_terms_residual_not_null"),
    (lambda t: t.assign(residual=t["residual"] + 1.0), "schema_terms_residual_consistent"),
    (lambda t: t.assign(lhs=t["lhs"].astype("str")), "schema_terms_lhs_float64"),
])
def test_schema_failures_fail_the_run(breakage, reason) -> None:
    terms = breakage(terms_frame(clean_terms(["r1", "r2"])))
    result = run_gate(terms, no_cells())
    assert not result.passed
    assert any(f.startswith(reason) for f in result.failures), result.failures


def test_cells_without_report_id_fail_the_run() -> None:
    cells = cells_frame([(None, "applications", "granted", "total", 1.0, "1", "line 1")])
    result = run_gate(terms_frame(clean_terms(["r1"])), cells)
    assert not result.passed
    assert any(f.startswith("schema_cells_report_id_not_null") for f in result.failures)


def test_nullable_ints_from_duckdb_are_accepted() -> None:
    terms = terms_frame(clean_terms(["r1"])).astype({"lhs": "Int64", "rhs": "Int64", "residual": "Int64"})
    cells = cells_frame([("r1", "applications", "granted", "total", 1.0, "1", "")]).astype({"value": "Int64"})
    result = run_gate(terms, cells)
    assert result.passed, result.failures


def test_empty_frames_pass(tmp_path: Path) -> None:
    result = run_gate(pd.DataFrame(), pd.DataFrame(), docs_dir=tmp_path / "quality")
    assert result.passed, result.failures
    assert list(result.issues.columns) == list(ISSUE_COLUMNS) and len(result.issues) == 0
    assert result.stats["report_count"] == 0
    assert result.docs_index is not None and result.docs_index.exists()
    # the empty schema frames too
    assert run_gate(terms_frame([]), no_cells(), reports=pd.DataFrame({"report_id": []})).passed


def test_issues_parquet_roundtrip(tmp_path: Path, hzq2023) -> None:
    import duckdb

    terms, cells, _ = hzq2023
    result = run_gate(terms, cells)
    path = tmp_path / "parquet" / "quality_issues.parquet"
    write_issues(result.issues, path)
    con = duckdb.connect()
    rows = con.execute(f"select rule, scope, residual, typeof(checked_at) from read_parquet('{path}') "
                       "order by scope").fetchall()
    assert rows == [("identity_4_reviews", "litigation_after_reconsideration", -5.0, "TIMESTAMP WITH TIME ZONE"),
                    ("identity_4_reviews", "reconsideration", -11.0, "TIMESTAMP WITH TIME ZONE")]
    empty = tmp_path / "empty.parquet"
    write_issues(run_gate(pd.DataFrame(), pd.DataFrame()).issues, empty)
    assert con.execute(f"select count(*) from read_parquet('{empty}')").fetchone() == (0,)
    assert [c[0] for c in con.execute(f"describe select * from read_parquet('{empty}')").fetchall()] == \
        list(ISSUE_COLUMNS)


def test_data_docs_site(tmp_path: Path, hzq2023) -> None:
    terms, cells, _ = hzq2023
    docs = tmp_path / "quality"
    result = run_gate(terms, cells, docs_dir=docs, run_name="test-run")
    assert result.docs_index == (docs / "index.html").resolve()
    html = result.docs_index.read_text(encoding="utf-8")
    assert "ogi.rule.identity_4_reviews" in html
    pages = {p for p in (docs / "validations").rglob("*.html") if "identity_4_reviews" in p.parts}
    assert len(pages) == 1
    page = pages.pop().read_text(encoding="utf-8")
    assert "hzq2023" in page and "litigation_after_reconsideration" in page  # readable batch index
    # the labelled batch index (used with Data Docs) yields the same issues as the bare one
    plain = run_gate(terms, cells)
    cols = ["report_id", "rule", "scope", "expected", "actual", "residual", "cells"]
    pd.testing.assert_frame_equal(result.issues[cols], plain.issues[cols])
    # a second run replaces the first run's pages
    run_gate(terms, cells, docs_dir=docs, run_name="second-run")
    assert not list((docs / "validations").rglob("test-run"))


# --------------------------------------------------------------------------- suites


def test_suite_version_matches_fingerprint() -> None:
    assert suites_fingerprint() == SUITE_FINGERPRINT, (
        "a suite changed: bump SUITE_VERSION and set SUITE_FINGERPRINT in expectations/suites.py")
    assert SUITE_VERSION


def test_importing_the_package_does_not_import_ge_or_dagster() -> None:
    code = ("import sys, expectations.gate, expectations.alerts, expectations.dagster_adapter, "
            "expectations.suites, expectations.run; print('great_expectations' in sys.modules, 'dagster' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- Dagster


def test_dagster_check_results(hzq2023) -> None:
    import dagster as dg

    from expectations.dagster_adapter import gate_check_specs, to_asset_check_results

    terms, cells, _ = hzq2023
    result = run_gate(terms, cells)
    checks = to_asset_check_results(result, ["quality", "quality_issues"])
    assert [c.check_name for c in checks] == list(check_names())
    by_name = {c.check_name: c for c in checks}
    gate = by_name[GATE_CHECK_NAME]
    assert gate.passed is False and gate.severity == dg.AssetCheckSeverity.ERROR
    ident4 = by_name["identity_4_reviews"]
    assert ident4.passed is False and ident4.severity == dg.AssetCheckSeverity.WARN
    assert ident4.metadata["unexpected_count"].value == 2
    assert ident4.metadata["reports_affected"].value == 1
    assert "reconsideration" in ident4.metadata["sample"].value
    assert by_name["identity_1_balance"].passed is True
    specs = gate_check_specs(["quality", "quality_issues"])
    assert [s.name for s in specs] == list(check_names())
    assert [s.name for s in specs if s.blocking] == [GATE_CHECK_NAME]


def test_dagster_blocking_gate_fails_the_run() -> None:
    """The adapter's results are accepted by a real Dagster run; a failed gate stops it."""
    import dagster as dg

    from expectations.dagster_adapter import gate_check_specs, to_asset_check_results

    key = dg.AssetKey(["quality_issues"])

    def make(terms: pd.DataFrame) -> dg.AssetsDefinition:
        @dg.asset(key=key, check_specs=gate_check_specs(key))
        def quality_issues():
            result = run_gate(terms, no_cells())
            yield dg.MaterializeResult(metadata={"issues": len(result.issues)})
            yield from to_asset_check_results(result, key)

        return quality_issues

    good = terms_frame(clean_terms(["r1", "r2"]))
    run = dg.materialize([make(good)], raise_on_error=False)
    assert run.success
    evals = run.get_asset_check_evaluations()
    assert len(evals) == len(check_names()) and all(e.passed for e in evals)

    bad = terms_frame(clean_terms(["r1"]) + [term("r1", "identity_4_reviews", "reconsideration", 0, 3)])

    ran: list[str] = []

    @dg.asset(deps=[key])
    def certified_marts() -> None:
        ran.append("certified_marts")

    run = dg.materialize([make(good), certified_marts], raise_on_error=False)
    assert run.success and ran == ["certified_marts"]
    ran.clear()
    run = dg.materialize([make(bad), certified_marts], raise_on_error=False)
    assert not run.success
    assert ran == []  # the blocking gate check stopped the downstream asset
    failed = {e.check_name: e for e in run.get_asset_check_evaluations() if not e.passed}
    assert set(failed) == {GATE_CHECK_NAME, "identity_4_reviews"}


# --------------------------------------------------------------------------- alerts


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "type": self.headers["Content-Type"],
                                    "json": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def webhook():
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/ogi", _Hook.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _alert(hzq2023) -> dict[str, Any]:
    terms, cells, obj = hzq2023
    result = run_gate(terms, cells)
    reports = pd.DataFrame({"report_id": ["hzq2023"], "agency": [obj["agency"]], "year": [obj["year"]],
                            "source_file": [obj["source"]]})
    return build_alert("run-42", result.issues, result.failures, reports, stats=result.stats)


def test_alert_reaches_the_webhook(tmp_path: Path, webhook, hzq2023) -> None:
    url, received = webhook
    alert = _alert(hzq2023)
    assert alert["level"] == "error" and alert["issue_count"] == 2
    first = alert["issues"][0]
    assert {k: first[k] for k in ("agency", "year", "rule", "residual", "source_file")} == {
        "agency": "洪泽区人民政府", "year": 2023, "rule": "identity_4_reviews", "residual": -5.0,
        "source_file": "hzq2023.txt"}

    out = send_alert(alert, tmp_path, webhook_url=url, timeout=5, retries=3)
    assert out["webhook"] == "delivered" and out["attempts"] == 1 and out["status"] == 204
    assert len(received) == 1
    assert received[0]["path"] == "/hooks/ogi" and received[0]["type"].startswith("application/json")
    assert received[0]["json"]["run_id"] == "run-42"
    assert [i["scope"] for i in received[0]["json"]["issues"]] == [
        "litigation_after_reconsideration", "reconsideration"]
    lines = (tmp_path / ALERTS_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["run_id"] == "run-42"


def test_webhook_down_is_logged_not_raised(tmp_path: Path, hzq2023, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    alert = _alert(hzq2023)
    caplog.set_level(logging.WARNING, logger="expectations.alerts")
    start = time.monotonic()
    out = send_alert(alert, tmp_path, f"http://127.0.0.1:{port}/hook", timeout=1, retries=3, backoff=0.1)
    elapsed = time.monotonic() - start
    assert out["webhook"] == "failed" and out["attempts"] == 3 and out["error"]
    assert elapsed < 3 * 1 + 0.1 + 0.2 + 1  # retries x timeout + backoff, plus slack
    assert "not delivered" in caplog.text
    lines = [json.loads(x) for x in (tmp_path / ALERTS_FILE).read_text(encoding="utf-8").splitlines()]
    # the alert itself, then the record that the webhook did not receive it, and why
    assert [x["kind"] for x in lines] == ["ogi.quality_alert", "ogi.alert_delivery_failed"]
    assert lines[1]["run_id"] == alert["run_id"] and lines[1]["attempts"] == 3 and "Connection" in lines[1]["error"]


def test_no_webhook_still_writes_the_line(tmp_path: Path) -> None:
    alert = build_alert("run-0", pd.DataFrame(columns=list(ISSUE_COLUMNS)), [], None)
    assert alert["level"] == "ok" and alert["issues"] == []
    out = send_alert(alert, tmp_path / "home")
    out2 = send_alert(alert, tmp_path / "home")
    assert out["webhook"] == out2["webhook"] == "skipped"
    assert len((tmp_path / "home" / ALERTS_FILE).read_text(encoding="utf-8").splitlines()) == 2


def test_quarantines_are_counted_by_cause() -> None:
    from expectations.issues import describe_quarantines, quarantined_by_cause

    rows = (clean_terms(["r1", "r2", "r3", "r4"])
            + [term("r1", "identity_4_reviews", "reconsideration", 0, 3),
               term("r2", "cells_unread", "proactive", 3, 0, scope_kind="report", table_name="proactive"),
               term("r3", "cells_unread", "applications", 7, 0, scope_kind="report", table_name="applications"),
               term("r3", "metadata_missing", "year", 1, 0, scope_kind="report")])
    result = run_gate(terms_frame(rows), no_cells(), max_bad_share=1.0)
    by_cause = quarantined_by_cause(result.issues)
    assert by_cause == result.stats["decertified_by_cause"] == {"report": 1, "parser": 2, "metadata": 1}
    assert describe_quarantines(by_cause) == ("1 report breaks its own identities or values; "
                                              "2 reports have cells the parser could not read; "
                                              "1 report lacks its agency or year")
    assert set(result.issues.loc[result.issues.report_id == "r2", "table_name"]) == {"proactive"}
