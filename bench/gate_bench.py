"""Benchmark: the Great Expectations quality gate vs one plain DuckDB query.

Builds a synthetic ``int_identity_terms`` frame (default 150,000 reports x 45
terms = 6.75M rows, a small share of broken identities), then times

* ``gate_s``: :func:`expectations.run.run_gate` on it (GE already imported;
  every row judged by GE; quality_issues built from GE's unexpected rows), and
* ``sql_s``: the same identities as ONE DuckDB SQL query over the same pandas
  frame, materialising the same issue rows,

and prints one JSON line::

    {"rows": ..., "gate_s": ..., "sql_s": ..., "gate_vs_sql_ratio": ..., ...}

Usage: ``.venv/bin/python bench/gate_bench.py [--reports 150000] [--repeat 3] [--docs DIR]``.
Not a test: it takes about a minute and ~4 GB of memory at the default size.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The 45 terms of one report: (rule, severity, scope_kind, scopes).
_APPLICANTS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
LAYOUT: list[tuple[str, str, str, list[str]]] = [
    ("identity_1_balance", "blocking", "column", _APPLICANTS),
    ("identity_2_outcomes", "blocking", "column", _APPLICANTS),
    ("identity_3_applicants", "blocking", "row", [f"row_{i:02d}" for i in range(22)]),
    ("identity_4_reviews", "blocking", "row", ["reconsideration", "litigation_direct",
                                               "litigation_after_reconsideration"]),
    ("keys_present", "blocking", "report", ["applications", "reviews", "proactive"]),
    ("identity_5_carry_over", "warning", "column", ["total"]),
    ("stock_rule", "warning", "row", ["normative_documents"]),
    ("template_year", "warning", "report", ["report"]),
]


def synthetic_terms(n_reports: int, bad_share: float = 0.02, seed: int = 0) -> pd.DataFrame:
    """A terms frame shaped like ``int_identity_terms``; ``bad_share`` of reports break one identity."""
    rng = np.random.default_rng(seed)
    slots = [(rule, sev, kind, scope) for rule, sev, kind, scopes in LAYOUT for scope in scopes]
    per = len(slots)
    n = n_reports * per
    rep = np.repeat(np.arange(n_reports), per)
    slot = np.tile(np.arange(per), n_reports)

    def col(values: list[str], codes: np.ndarray) -> pd.Series:
        return pd.Series(pd.array(values, dtype="str")).take(codes).reset_index(drop=True)

    ids = [f"{i:064x}" for i in range(n_reports)]  # sha256-like report ids
    lhs = rng.integers(0, 500, n).astype("float64")
    rhs = lhs.copy()
    bad_reports = rng.choice(n_reports, int(n_reports * bad_share), replace=False)
    bad_rows = bad_reports * per + rng.integers(0, per, len(bad_reports))
    rhs[bad_rows] += rng.integers(1, 20, len(bad_rows))
    return pd.DataFrame({
        "report_id": col(ids, rep),
        "rule": col([s[0] for s in slots], slot),
        "severity": col([s[1] for s in slots], slot),
        "scope_kind": col([s[2] for s in slots], slot),
        "scope": col([s[3] for s in slots], slot),
        "lhs": lhs,
        "rhs": rhs,
        "residual": lhs - rhs,
        "cells": col([f"{s[0]}[{s[3]}]: lhs cells = rhs cells" for s in slots], slot),
    })


SQL = """
SELECT report_id, rule, severity, scope_kind, scope,
       rhs AS expected, lhs AS actual, residual, cells, now() AS checked_at
FROM terms
WHERE residual IS NULL OR abs(residual) > 1e-9
ORDER BY report_id, rule, scope
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=150_000)
    ap.add_argument("--bad-share", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fingerprint", action="store_true",
                    help="let GE md5-fingerprint every batch (the gate skips it by default)")
    ap.add_argument("--docs", type=Path, default=None, help="also build Data Docs into DIR (timed separately)")
    args = ap.parse_args(argv)

    import duckdb

    t = time.perf_counter()
    terms = synthetic_terms(args.reports, args.bad_share)
    build_s = time.perf_counter() - t
    cells = pd.DataFrame({"report_id": pd.Series([], dtype="str"), "table_name": pd.Series([], dtype="str"),
                          "row_key": pd.Series([], dtype="str"), "col_key": pd.Series([], dtype="str"),
                          "value": pd.Series([], dtype="float64")})

    t = time.perf_counter()
    import great_expectations  # noqa: F401  (the one-off import cost, reported apart)
    import_s = time.perf_counter() - t

    from expectations.run import run_gate

    gate_times, timings, result = [], {}, None
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = run_gate(terms, cells, max_bad_share=0.5, fingerprint_batches=args.fingerprint)
        gate_times.append(time.perf_counter() - t)
        timings = result.timings

    con = duckdb.connect()
    sql_times, sql_rows = [], 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        out = con.execute(SQL).df()
        sql_times.append(time.perf_counter() - t)
        sql_rows = len(out)

    docs_s = None
    if args.docs is not None:
        t = time.perf_counter()
        run_gate(terms, cells, docs_dir=args.docs, max_bad_share=0.5)
        docs_s = time.perf_counter() - t

    assert result is not None
    gate_s, sql_s = statistics.median(gate_times), statistics.median(sql_times)
    suites_s = sum(v for k, v in timings.items() if k.startswith("suite:"))
    rule_suites_s = sum(v for k, v in timings.items()
                        if k.startswith(("suite:ogi.rule.", "complete:ogi.rule.")))
    complete_s = sum(v for k, v in timings.items() if k.startswith("complete:"))
    print(json.dumps({
        "rows": len(terms),
        "reports": args.reports,
        "gate_s": round(gate_s, 3),
        "sql_s": round(sql_s, 3),
        "gate_vs_sql_ratio": round(gate_s / sql_s, 1),
        "issues_gate": int(len(result.issues)),
        "issues_sql": int(sql_rows),
        "gate_runs_s": [round(x, 3) for x in gate_times],
        "sql_runs_s": [round(x, 3) for x in sql_times],
        "gate_suites_s": round(suites_s, 3),
        "gate_rule_suites_s": round(rule_suites_s, 3),
        "gate_complete_pass_s": round(complete_s, 3),
        "gate_terms_rows_suite_s": round(timings.get("suite:ogi.terms.rows", 0.0), 3),
        "gate_prepare_s": round(timings.get("prepare_s", 0.0), 3),
        "ge_batch_fingerprints": args.fingerprint,
        "gate_with_docs_s": None if docs_s is None else round(docs_s, 3),
        "ge_import_s": round(import_s, 3),
        "frame_build_s": round(build_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }))
    return 0 if len(result.issues) == sql_rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
