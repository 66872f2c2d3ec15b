"""The dbt project end to end: real dbt (in-process), real DuckDB, golden records as input.

One module-scoped build runs the warehouse the way the nightly job does:

1. ``dbt build --selector pre_gate`` (seeds, staging, intermediate), with no
   quality_issues.parquet on disk yet (a first run);
2. an empty quality_issues.parquet, then ``dbt build --selector post_gate``;
3. a stand-in for the gate: every int_identity_terms row whose residual is not 0 becomes an
   issue of its rule's severity; then the marts are built again.

Inputs: the five seed goldens, the real-world text goldens hzq2023 (it breaks identity 4), hzq2024
(the same body in 2024, printed 淮安市洪泽区人民政府: linked by agency_id) and szfgs2024, and five
synthetic records derived from goldens: a 2022 report for the agency of golden 004 (so the
cross-year rules have a prior year), a copy of golden 000 without its carried_forward row, a copy
of golden 002 whose table 2 regulations row the parser could not read (unread cells), a copy
of golden 003 without a year, and a copy of hzq2023 whose reconsideration row was not read.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import re
import time

import duckdb
import pytest

from ingestion.templates import APPLICANT_COLUMNS, REVIEW_COLUMNS, REVIEW_ROWS

from dbt_helpers import (
    DBT_PROJECT_DIR,
    PARSED_AT,
    dbt_env,
    failures,
    golden_files,
    release_duckdb,
    report_id_of,
    run_dbt,
    write_quality_issues,
    write_raw_parquet,
)

# selectors.yml: the same selections as orchestration/defs/dbt.py (test_selectors_match_dagster)
PRE_GATE = ["--selector", "pre_gate"]
POST_GATE = ["--selector", "post_gate"]

HZQ2023 = "hzq2023.txt"
HZQ2024 = "hzq2024.txt"
PRIOR_OF_004 = "synthetic_004_prior_year.txt"
MISSING_ROW = "synthetic_000_missing_carried_forward.txt"
UNREAD_ROW = "synthetic_002_unread_regulations.txt"
NO_YEAR = "synthetic_003_no_year.txt"
UNREAD_REVIEWS = "synthetic_hzq2023_unread_reconsideration.txt"


def _synthetic_records(goldens: dict[str, dict]) -> list[dict]:
    """Records made from goldens to exercise the cross-year rules, keys_present, unread cells and a missing year."""
    base = goldens["004_09e585feb6001ac8.txt"]
    prior = copy.deepcopy(base)
    prior["source"] = PRIOR_OF_004
    prior["year"] = base["year"] - 1
    apps = prior["applications"]
    # two applications from natural persons received and carried forward: identities 1-3 still hold
    apps["new_received"][0] = apps["new_received"][6] = 2
    apps["carried_forward"][0] = apps["carried_forward"][6] = 2
    # 2023 prints in_force 4 = 6 + issued 2 - abolished 3 would need 5: the stock rule is off by -1
    prior["proactive"]["normative_documents"]["in_force"] = 6

    missing = copy.deepcopy(goldens["000_f1db75d64b6a785a.txt"])
    missing["source"] = MISSING_ROW
    missing["agency"] = "合成测试局"
    del missing["applications"]["carried_forward"]
    unread = copy.deepcopy(goldens["002_6379e42c8043a5dd.txt"])
    unread["source"] = UNREAD_ROW
    unread["agency"] = "合成未读局"
    unread["proactive"]["regulations"] = dict.fromkeys(unread["proactive"]["regulations"])
    unread["unread"] = [f"proactive.regulations.{f}" for f in unread["proactive"]["regulations"]]
    no_year = copy.deepcopy(goldens["003_2e247731aada4717.txt"])
    no_year["source"] = NO_YEAR
    no_year["agency"] = "合成无年度局"
    no_year["year"] = None
    # hzq2023 prints reconsideration total 0 over parts summing to 11: with that row unread, the
    # report must not be blamed for identity 4 there (nor anywhere in its table 4)
    unread_reviews = copy.deepcopy(goldens[HZQ2023])
    unread_reviews["source"] = UNREAD_REVIEWS
    unread_reviews["agency"] = "合成复议未读局"
    unread_reviews["reviews"]["reconsideration"] = [None] * 5
    unread_reviews["unread"] = [f"reviews.reconsideration.{c}" for c in REVIEW_COLUMNS]
    return [prior, missing, unread, no_year, unread_reviews]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Parquet inputs, the three dbt builds, and per-phase snapshots of what the tests check."""
    tmp = tmp_path_factory.mktemp("dbt")
    parquet_dir, db = tmp / "parquet", tmp / "warehouse.duckdb"

    goldens = {}
    records = []
    for path in golden_files():
        obj = json.loads(path.read_text(encoding="utf-8"))
        goldens[obj["source"]] = obj
        records.append((report_id_of(path.read_bytes()), obj))
    for obj in _synthetic_records(goldens):
        goldens[obj["source"]] = obj
        records.append((report_id_of(json.dumps(obj, ensure_ascii=False).encode()), obj))
    ids = {obj["source"]: rid for rid, obj in records}
    parse_error = {
        "report_id": report_id_of(b"garbled"),
        "source_file": "garbled.pdf",
        "format": "pdf",
        "error": "garbled.pdf: no table 3 found",
        "error_kind": "not_a_report",
        "parser_version": "test",
        "parsed_at": PARSED_AT,
    }
    write_raw_parquet(parquet_dir, records, parse_errors=[parse_error])

    timings: dict[str, float] = {}
    snapshots: dict[str, dict] = {}

    def build(phase: str, args: list[str]) -> None:
        start = time.perf_counter()
        result = run_dbt(["build", *args, "--quiet"], tmp)
        release_duckdb()
        timings[phase] = time.perf_counter() - start
        assert result.success, f"dbt build ({phase}) failed:\n" + "\n".join(failures(result))

    def snapshot(phase: str, tables: list[str]) -> None:
        with duckdb.connect(str(db), read_only=True) as con:
            snapshots[phase] = {
                t: con.sql(f"select * from {t}").to_arrow_table().to_pandas() for t in tables
            }

    marts = [
        "marts.dim_report", "marts.fct_applications", "marts.fct_outcomes", "marts.fct_reviews",
        "marts.fct_proactive", "marts.dim_proactive_item",
        "marts.agg_agency_year", "marts.quality_issues", "marts.parse_errors", "marts.dim_outcome",
        "marts.dim_applicant_type", "marts.dim_agency", "marts.dim_region", "marts.link_report_agency",
        "marts.agg_region_year", "marts.agg_agency_panel",
    ]
    with dbt_env(parquet_dir, db):
        assert not (parquet_dir / "quality_issues.parquet").exists()
        build("pre_gate", PRE_GATE)  # first run: the gate has never written its file
        snapshot("pre_gate", ["intermediate.int_identity_terms", "information_schema.tables"])

        write_quality_issues(parquet_dir, [])
        build("marts_no_issues", POST_GATE)
        snapshot("no_issues", marts)

        # stand-in for the Great Expectations gate
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.sql(
                """
                select report_id, rule, severity, table_name, scope_kind, scope, rhs as expected, lhs as actual,
                       residual, cells, now()::timestamp as checked_at
                from intermediate.int_identity_terms
                where residual <> 0
                """
            ).to_arrow_table().to_pylist()
        write_quality_issues(parquet_dir, rows)
        build("marts_after_gate", POST_GATE)
        snapshot("after_gate", marts)

    print(f"\ndbt build timings (s): { {k: round(v, 1) for k, v in timings.items()} }")
    return {"ids": ids, "goldens": goldens, "snapshots": snapshots, "timings": timings, "db": db,
            "records": records}


def _terms(warehouse):
    return warehouse["snapshots"]["pre_gate"]["intermediate.int_identity_terms"]


def _golden_reports(warehouse):
    """(source, report_id, golden) of the real goldens (not the synthetic records)."""
    return [(src, warehouse["ids"][src], g) for src, g in warehouse["goldens"].items() if not src.startswith("synthetic")]


def _null(v):
    """NaN/None (pandas' view of SQL NULL) -> None."""
    return None if v is None or v != v else v


# ---------------------------------------------------------------- reference data


def _generator():
    spec = importlib.util.spec_from_file_location("generate_reference", DBT_PROJECT_DIR / "scripts" / "generate_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_seeds_and_macros_are_generated():
    """The seeds and the generated macros (ogi_keys.sql, ogi_rules.sql) are what the script writes."""
    rendered = _generator().rendered()
    assert DBT_PROJECT_DIR / "macros" / "ogi_keys.sql" in rendered
    assert DBT_PROJECT_DIR / "macros" / "ogi_rules.sql" in rendered
    for path, text in rendered.items():
        committed = path.read_text(encoding="utf-8")
        assert committed == text, f"{path.name} is stale: run dbt_project/scripts/generate_reference.py"
        if path.suffix == ".sql":
            assert committed.startswith("{#- GENERATED by dbt_project/scripts/generate_reference.py")


def test_a_third_form_is_a_data_change(monkeypatch):
    """A made-up third form in templates.FORMS reaches every generated seed that lists forms."""
    from ingestion import templates

    base = templates.FORMS_BY_KEY["2021"]
    third = dataclasses.replace(
        base, key="2027", document="made-up circular", first_year=2027, last_year=None,
        stock_rows=(templates.StockRow("licensing", "in_force", "issued", "abolished"),),
    )
    forms = (*templates.FORMS[:-1], dataclasses.replace(base, last_year=2026), third)
    monkeypatch.setattr(templates, "FORMS", forms)
    gen = _generator()
    tables = gen.tables()
    assert tables["ref_templates"][1:] == [
        ["2019", "国办公开办函〔2019〕60号", "", 2020, "single"],
        ["2021", "国办公开办函〔2021〕30号", 2021, 2026, "split"],
        ["2027", "made-up circular", 2027, "", "split"],
    ]
    assert ["2027", "licensing", "in_force", "issued", "abolished"] in tables["ref_stock_rows"]
    for name in ("ref_template_cells", "ref_proactive_fields"):
        assert {row[0] for row in tables[name][1:]} == {"2019", "2021", "2027"}, name


def test_every_term_rule_has_its_model():
    """rules.py and models/intermediate/rules/ agree: one rule_<name>.sql per rule on the terms."""
    from expectations.rules import TERM_RULES

    models = {p.stem for p in (DBT_PROJECT_DIR / "models" / "intermediate" / "rules").glob("rule_*.sql")}
    assert models == {f"rule_{r.name}" for r in TERM_RULES}
    documented = (DBT_PROJECT_DIR / "models" / "intermediate" / "rules" / "_rules.yml").read_text(encoding="utf-8")
    for model in models:
        assert f"- name: {model}\n" in documented, model


def test_no_template_or_severity_literal_in_the_project():
    """The forms and the rules are data (seeds, generated macros): no SQL or YAML names a
    template or a template's years, and no intermediate model a rule's severity, except
    generated files and unit-test fixtures."""
    generated = set(_generator().rendered())
    template_literal = re.compile(r"'20(19|21)'|\b2020\b")
    severity_literal = re.compile(r"'(blocking|warning)'")
    for path in sorted(DBT_PROJECT_DIR.glob("models/**/*")) + sorted(DBT_PROJECT_DIR.glob("macros/*")) + sorted(
            DBT_PROJECT_DIR.glob("tests/*")):
        if path in generated or path.suffix not in (".sql", ".yml"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".yml" and "unit_tests:" in text:
            text = text[: text.index("unit_tests:")]
        assert not template_literal.search(text), f"{path.name} names a template: {template_literal.search(text)[0]}"
        if path.suffix == ".sql" and "intermediate" in path.parts:
            assert not severity_literal.search(text), f"{path.name} names a severity"


def test_selectors_match_dagster(tmp_path):
    """selectors.yml's phases select what orchestration/defs/dbt.py builds in each phase."""
    from orchestration.defs.dbt import AFTER_GATE
    from orchestration.defs.dbt import POST_GATE as DAGSTER_POST
    from orchestration.defs.dbt import PRE_GATE as DAGSTER_PRE

    def ls(args):
        with dbt_env(tmp_path / "parquet", tmp_path / "warehouse.duckdb"):
            result = run_dbt(["ls", "--quiet", "--output", "name", *args], tmp_path)
        assert result.success, failures(result)
        return sorted(result.result)

    pre = ls(["--selector", "pre_gate"])
    assert pre == ls(["--select", *DAGSTER_PRE.split(), "--exclude", AFTER_GATE])
    assert "stg_quality_issues" not in pre and "int_identity_terms" in pre and "ref_quality_rules" in pre
    post = ls(["--selector", "post_gate"])
    assert post == ls(["--select", *DAGSTER_POST.split()])
    assert "stg_quality_issues" in post


def test_no_dbt_packages_file():
    """No dbt packages: ``dbt deps`` would fetch them from the dbt hub, and the project builds offline;
    dagster-dbt would run it if the file existed."""
    assert not (DBT_PROJECT_DIR / "packages.yml").exists()
    assert not (DBT_PROJECT_DIR / "dependencies.yml").exists()


# ---------------------------------------------------------------- identities


def test_identity_terms_residuals(warehouse):
    terms = _terms(warehouse)
    ids = warehouse["ids"]
    nonzero = {
        (r.report_id, r.rule, r.scope): r.residual for r in terms.itertuples() if r.residual != 0
    }
    assert nonzero == {
        (ids[HZQ2023], "identity_4_reviews", "reconsideration"): -11.0,
        (ids[HZQ2023], "identity_4_reviews", "litigation_after_reconsideration"): -5.0,
        (ids[MISSING_ROW], "keys_present", "applications"): -7.0,
        (ids["004_09e585feb6001ac8.txt"], "identity_5_carry_over", "natural_person"): -2.0,
        (ids["004_09e585feb6001ac8.txt"], "identity_5_carry_over", "total"): -2.0,
        (ids["004_09e585feb6001ac8.txt"], "stock_rule", "normative_documents"): -1.0,
        (ids[UNREAD_ROW], "cells_unread", "proactive"): 3.0,
        (ids[NO_YEAR], "metadata_missing", "year"): 1.0,
        (ids[UNREAD_REVIEWS], "cells_unread", "reviews"): 5.0,
    }
    # a table with unread cells has no identity terms at all: nothing can blame the report
    assert not len(terms[(terms.report_id == ids[UNREAD_REVIEWS]) & (terms.rule == "identity_4_reviews")])
    assert len(terms[(terms.report_id == ids[UNREAD_ROW]) & (terms.rule == "identity_1_balance")]) == 7
    assert (terms.residual == terms.lhs - terms.rhs).all()


def test_identity_terms_cover_every_report_and_scope(warehouse):
    terms = _terms(warehouse)
    for _src, rid, golden in _golden_reports(warehouse):
        mine = terms[terms.report_id == rid]
        counts = mine.groupby("rule").size().to_dict()
        assert counts["identity_1_balance"] == 7
        assert counts["identity_2_outcomes"] == 7
        assert counts["identity_3_applicants"] == len(golden["applications"])
        assert counts["identity_4_reviews"] == 3
        assert counts["keys_present"] == 3
        assert counts["template_year"] == 1
        assert set(mine[mine.rule == "identity_1_balance"].scope) == set(APPLICANT_COLUMNS)
        blocking = set(mine[mine.severity == "blocking"].rule)
        assert blocking == {"identity_1_balance", "identity_2_outcomes", "identity_3_applicants",
                            "identity_4_reviews", "keys_present"}
    # cross-year rules only where the prior year's report exists: 004 (2023) after the synthetic 2022,
    # and hzq2024 after hzq2023 (the same body under another name, linked by agency_id)
    cross = terms[terms.rule.isin(["identity_5_carry_over", "stock_rule"])]
    ids = warehouse["ids"]
    assert set(cross.report_id) == {ids["004_09e585feb6001ac8.txt"], ids[HZQ2024]}
    for rid in (ids["004_09e585feb6001ac8.txt"], ids[HZQ2024]):
        mine = cross[cross.report_id == rid]
        assert set(mine[mine.rule == "stock_rule"].scope) == {"regulations", "normative_documents"}
        assert set(mine[mine.rule == "identity_5_carry_over"].scope) == set(APPLICANT_COLUMNS)
    assert set(cross.severity) == {"warning"}


def test_identity_terms_name_their_cells(warehouse):
    terms = _terms(warehouse)
    rid = warehouse["ids"][HZQ2023]
    row = terms[(terms.report_id == rid) & (terms.rule == "identity_1_balance") & (terms.scope == "natural_person")].iloc[0]
    assert row.cells == (
        "applications.new_received.natural_person + applications.carried_over.natural_person"
        " = applications.total.natural_person + applications.carried_forward.natural_person"
    )
    row = terms[(terms.report_id == rid) & (terms.rule == "identity_4_reviews") & (terms.scope == "reconsideration")].iloc[0]
    assert (row.lhs, row.rhs) == (0.0, 11.0)
    assert row.cells.startswith("reviews.reconsideration.total = reviews.reconsideration.upheld + ")
    # identity 2 follows the row (六) variant the report prints
    two = terms[(terms.report_id == rid) & (terms.rule == "identity_2_outcomes") & (terms.scope == "total")].iloc[0]
    assert two.cells.endswith("applications.rejected_confirmation.total + applications.other.total")
    split = warehouse["ids"]["000_f1db75d64b6a785a.txt"]
    two = terms[(terms.report_id == split) & (terms.rule == "identity_2_outcomes") & (terms.scope == "total")].iloc[0]
    assert two.cells.endswith("applications.other_unpaid_fee.total + applications.other_other.total")
    missing = terms[(terms.report_id == warehouse["ids"][MISSING_ROW]) & (terms.rule == "keys_present")]
    apps = missing[missing.scope == "applications"].iloc[0]
    assert (apps.lhs, apps.rhs) == (168.0, 175.0)
    assert "carried_forward (7)" in apps.cells


def test_incremental_build_recomputes_the_next_year(warehouse, tmp_path):
    """A report for the previous year arriving later recomputes the next year's report of its
    agency (identity 5 and the stock rule appear for 004), and leaves the other reports alone:
    the incremental table equals the full build's."""
    parquet_dir, db = tmp_path / "parquet", tmp_path / "warehouse.duckdb"
    records, ids = warehouse["records"], warehouse["ids"]
    report_004, untouched = ids["004_09e585feb6001ac8.txt"], ids["002_6379e42c8043a5dd.txt"]
    terms_sql = "select * from intermediate.int_identity_terms order by all"

    def build() -> None:
        result = run_dbt(["build", *PRE_GATE, "--quiet"], tmp_path)
        release_duckdb()
        assert result.success, "\n".join(failures(result))

    with dbt_env(parquet_dir, db):
        write_raw_parquet(parquet_dir, [(rid, obj) for rid, obj in records if obj["source"] != PRIOR_OF_004])
        build()
        with duckdb.connect(str(db)) as con:
            before = con.sql("select distinct rule from intermediate.int_identity_terms where report_id = ?",
                             params=[report_004]).fetchall()
            # a mark on a report the new one does not concern: an incremental build leaves it
            con.execute("update intermediate.int_identity_terms set cells = 'left alone' where report_id = ?",
                        [untouched])
        assert ("identity_5_carry_over",) not in before
        write_raw_parquet(parquet_dir, records)
        build()
        with duckdb.connect(str(db), read_only=True) as con:
            incremental = con.sql(terms_sql).fetchall()
    with duckdb.connect(str(warehouse["db"]), read_only=True) as con:
        full = con.sql(terms_sql).fetchall()
    left_alone = [row for row in incremental if row[0] == untouched]
    assert left_alone and all(row[-1] == "left alone" for row in left_alone)
    assert [row for row in incremental if row[0] != untouched] == [row for row in full if row[0] != untouched]
    assert {row[1] for row in incremental if row[0] == report_004} >= {"identity_5_carry_over", "stock_rule"}


# ---------------------------------------------------------------- phases


def test_schemas_and_phases(warehouse):
    tables = warehouse["snapshots"]["pre_gate"]["information_schema.tables"]
    pre = set(zip(tables.table_schema, tables.table_name))
    assert ("intermediate", "int_identity_terms") in pre
    assert ("reference", "ref_template_cells") in pre  # the seeds come with the pre-gate selection
    assert not any(schema == "marts" for schema, _ in pre)
    assert ("staging", "stg_quality_issues") not in pre  # built after the gate only
    assert set(warehouse["timings"]) == {"pre_gate", "marts_no_issues", "marts_after_gate"}


# ---------------------------------------------------------------- certification


def test_without_issues_every_report_read_whole_is_certified(warehouse):
    """With no issue from the gate, every report is certified but those with unread cells: a
    table the parser could not read whole is never certified, whatever the gate's file says."""
    snap = warehouse["snapshots"]["no_issues"]
    dim = snap["marts.dim_report"].set_index("report_id")
    ids = warehouse["ids"]
    assert len(dim) == len(ids)
    assert set(dim.index[~dim.certified]) == {ids[UNREAD_ROW], ids[UNREAD_REVIEWS]}
    assert not dim.loc[ids[UNREAD_ROW], "certified_proactive"] and dim.loc[ids[UNREAD_ROW], "certified_applications"]
    assert warehouse["ids"][HZQ2023] in set(snap["marts.fct_reviews"].report_id)


FACT_TABLES = {"marts.fct_applications": "certified_applications", "marts.fct_outcomes": "certified_applications",
               "marts.fct_reviews": "certified_reviews", "marts.fct_proactive": "certified_proactive"}


def test_blocking_issue_holds_its_table_out_of_the_facts(warehouse):
    snap = warehouse["snapshots"]["after_gate"]
    ids = warehouse["ids"]
    dim = snap["marts.dim_report"].set_index("report_id")
    assert len(dim) == len(ids)  # quarantined reports stay in dim_report
    quarantined = {ids[HZQ2023], ids[MISSING_ROW], ids[UNREAD_ROW], ids[NO_YEAR], ids[UNREAD_REVIEWS]}
    assert set(dim.index[~dim.certified]) == quarantined
    assert dim.loc[ids[HZQ2023], "blocking_issue_count"] == 2
    # warnings alone do not quarantine
    assert dim.loc[ids["004_09e585feb6001ac8.txt"], "certified"]
    assert dim.loc[ids["004_09e585feb6001ac8.txt"], "issue_count"] == 3
    assert dim.loc[ids["004_09e585feb6001ac8.txt"], "blocking_issue_count"] == 0
    # per table: hzq2023 breaks identity 4, so only its table 4 is held out
    certification = {src: tuple(dim.loc[ids[src], ["certified_applications", "certified_reviews", "certified_proactive"]])
                     for src in (HZQ2023, MISSING_ROW, UNREAD_ROW, NO_YEAR, UNREAD_REVIEWS)}
    assert certification == {HZQ2023: (True, False, True), MISSING_ROW: (False, True, True),
                             UNREAD_ROW: (True, True, False), NO_YEAR: (False, False, False),
                             UNREAD_REVIEWS: (True, False, True)}
    issues = snap["marts.quality_issues"]
    causes = {(r.report_id, r.rule): (r.cause, r.table_name) for r in issues.itertuples() if r.severity == "blocking"}
    assert causes[(ids[UNREAD_ROW], "cells_unread")] == ("parser", "proactive")
    assert causes[(ids[NO_YEAR], "metadata_missing")] == ("metadata", "report")
    assert causes[(ids[HZQ2023], "identity_4_reviews")] == ("report", "reviews")
    assert dim.loc[ids[UNREAD_ROW], "unread_cell_count"] == 3
    for fact, column in FACT_TABLES.items():
        held_out = set(dim.index[~dim[column]])
        assert not held_out & set(snap[fact].report_id), fact
        assert set(dim.index[dim[column] & dim.is_current]) == set(snap[fact].report_id), fact
    assert ids[HZQ2023] in set(snap["marts.fct_applications"].report_id)
    assert ids[HZQ2023] not in set(snap["marts.fct_reviews"].report_id)
    issues = snap["marts.quality_issues"]
    hzq = issues[issues.report_id == ids[HZQ2023]]
    assert set(hzq.scope) == {"reconsideration", "litigation_after_reconsideration"}
    assert set(hzq.agency) == {"洪泽区人民政府"} and set(hzq.year) == {2023}
    assert sorted(hzq.residual) == [-11.0, -5.0]


# ---------------------------------------------------------------- facts against the goldens


def _certified_goldens(warehouse, table):
    dim = warehouse["snapshots"]["after_gate"]["marts.dim_report"].set_index("report_id")
    return [(s, rid, g) for s, rid, g in _golden_reports(warehouse) if dim.loc[rid, f"certified_{table}"]]


def test_fct_applications_match_goldens(warehouse):
    fct = warehouse["snapshots"]["after_gate"]["marts.fct_applications"]
    checked = 0
    for _, rid, golden in _certified_goldens(warehouse, "applications"):
        rows = fct[fct.report_id == rid].set_index("applicant_type")
        assert set(rows.index) == set(APPLICANT_COLUMNS)
        apps = golden["applications"]
        for i, col in enumerate(APPLICANT_COLUMNS):
            got = rows.loc[col]
            assert _null(got.new_received) == apps["new_received"][i]
            assert _null(got.carried_over) == apps["carried_over"][i]
            assert _null(got.total_handled) == apps["total"][i]
            assert _null(got.carried_forward) == apps["carried_forward"][i]
            checked += 1
    assert checked == 8 * 7  # the five seeds, hzq2023 (whose table 3 holds), hzq2024 and szfgs2024


def test_fct_outcomes_match_goldens(warehouse):
    fct = warehouse["snapshots"]["after_gate"]["marts.fct_outcomes"]
    outcome_rows = set(warehouse["snapshots"]["after_gate"]["marts.dim_outcome"].outcome)
    for _, rid, golden in _certified_goldens(warehouse, "applications"):
        mine = fct[fct.report_id == rid]
        apps = golden["applications"]
        # every outcome cell, blank kept as NULL
        expected = {(col, key): apps[key][i] for key in apps if key in outcome_rows
                    for i, col in enumerate(APPLICANT_COLUMNS)}
        got = {(r.applicant_type, r.outcome): _null(r.count) for r in mine.itertuples()}
        assert got == expected
        # per applicant type, the outcomes sum to the golden total row (blank read as 0)
        sums = mine.assign(n=mine["count"].fillna(0)).groupby("applicant_type").n.sum().to_dict()
        for i, col in enumerate(APPLICANT_COLUMNS):
            assert sums[col] == (apps["total"][i] or 0), (rid, col)


def test_fct_reviews_match_goldens(warehouse):
    fct = warehouse["snapshots"]["after_gate"]["marts.fct_reviews"]
    for _, rid, golden in _certified_goldens(warehouse, "reviews"):
        mine = fct[fct.report_id == rid]
        assert len(mine) == 3 * 4
        for proc in REVIEW_ROWS:
            row = golden["reviews"][proc]
            for j, result in enumerate(REVIEW_COLUMNS[:-1]):
                got = mine[(mine.proceeding == proc) & (mine.review_result == result)].iloc[0]
                assert _null(got["count"]) == row[j]
                assert _null(got.printed_total) == row[4]


def test_fct_proactive_matches_goldens(warehouse):
    """Table 2 of every seed and real report whose table 2 is certified, both forms: counts as
    whole numbers, amounts as decimals, blank as NULL."""
    fct = warehouse["snapshots"]["after_gate"]["marts.fct_proactive"]
    templates = set()
    for _, rid, golden in _certified_goldens(warehouse, "proactive"):
        mine = fct[fct.report_id == rid]
        got = {(r.item, r.field): _null(r.amount_10k_yuan) if r.field == "amount_10k_yuan" else _null(r.count)
               for r in mine.itertuples()}
        expected = {(item, field): value for item, fields in golden["proactive"].items()
                    for field, value in fields.items()}
        assert {k: (None if v is None else float(v)) for k, v in got.items()} == \
            {k: (None if v is None else float(v)) for k, v in expected.items()}, rid
        templates.add(golden["template"])
    assert templates == {"2019", "2021"}


def test_facts_are_whole_numbers(warehouse):
    """Counts are BIGINT in every fact (sum(count) prints 3050, not 3050.0); amounts are decimals."""
    with duckdb.connect(str(warehouse["db"]), read_only=True) as con:
        types = dict(con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name like 'fct_%'").fetchall())
    for column in ("fct_applications.new_received", "fct_applications.total_handled", "fct_outcomes.count",
                   "fct_reviews.count", "fct_reviews.printed_total", "fct_proactive.count"):
        assert types[column] == "BIGINT", column
    assert types["fct_proactive.amount_10k_yuan"].startswith("DECIMAL")


def test_dim_proactive_item_says_what_compares_across_forms(warehouse):
    dim = warehouse["snapshots"]["after_gate"]["marts.dim_proactive_item"].set_index(["template", "item", "field"])
    assert dim.loc[("2019", "regulations", "made"), "comparable_measure"] == "regulations.issued"
    assert dim.loc[("2021", "regulations", "issued"), "comparable_measure"] == "regulations.issued"
    assert _null(dim.loc[("2019", "regulations", "total_public"), "comparable_measure"]) is None
    assert dim.loc[("2021", "fees", "amount_10k_yuan"), "value_kind"] == "amount"
    assert dim.loc[("2019", "fees", "change"), "value_kind"] == "signed_count"


def test_blank_cells_stay_null_in_facts(warehouse):
    """Golden 003 prints blanks in table 3: they are NULL in the facts, not 0."""
    fct = warehouse["snapshots"]["after_gate"]["marts.fct_applications"]
    rid = warehouse["ids"]["003_2e247731aada4717.txt"]
    research = fct[(fct.report_id == rid) & (fct.applicant_type == "research")].iloc[0]
    assert _null(research.new_received) is None
    assert _null(research.total_handled) is None


# ---------------------------------------------------------------- aggregates


def _agg(warehouse, source, phase="after_gate"):
    agg = warehouse["snapshots"][phase]["marts.agg_agency_year"]
    rows = agg[agg.report_id == warehouse["ids"][source]]
    assert len(rows) == 1, source
    return rows.iloc[0]


def test_agg_rates_are_null_on_zero_denominators(warehouse):
    row = _agg(warehouse, "000_f1db75d64b6a785a.txt")  # nothing handled, no reviews
    assert row.handled == 0
    for rate in ("substantive_disclosure_rate", "denial_rate", "denial_rate_state_secret", "not_held_rate",
                 "reconsideration_correction_rate", "litigation_loss_rate"):
        assert _null(row[rate]) is None, rate


def test_agg_rates(warehouse):
    golden = warehouse["goldens"]["002_6379e42c8043a5dd.txt"]["applications"]
    row = _agg(warehouse, "002_6379e42c8043a5dd.txt")
    handled = golden["total"][6]
    assert row.handled == handled == 11
    assert row.substantive_disclosure_rate == pytest.approx(
        (golden["granted"][6] + golden["partially_granted"][6]) / handled)
    denied = sum(v[6] for k, v in golden.items() if k.startswith("denied_"))
    assert row.denial_rate == pytest.approx(denied / handled)
    assert row.not_held_rate == pytest.approx(golden["unavailable_not_held"][6] / handled)

    row = _agg(warehouse, "003_2e247731aada4717.txt")  # reconsideration [1,0,2,1,4]; litigation [1,1,3,0,5] + zeros
    assert row.reconsideration_correction_rate == 0.0
    assert row.litigation_loss_rate == pytest.approx(1 / 5)
    assert row.reconsideration_total == 4 and row.litigation_total == 5


def test_agg_holds_each_measure_to_its_certified_table(warehouse):
    """hzq2023's table 4 breaks identity 4: its table 3 indicators stay, its table 4 ones are NULL;
    a report without a year is not aggregated at all."""
    after = warehouse["snapshots"]["after_gate"]["marts.agg_agency_year"]
    row = _agg(warehouse, HZQ2023)
    golden = warehouse["goldens"][HZQ2023]
    assert row.handled == golden["applications"]["total"][6] and not row.certified_reviews
    for column in ("reconsideration_total", "litigation_total", "reconsideration_correction_rate",
                   "litigation_loss_rate"):
        assert _null(row[column]) is None, column
    assert row.licensing_decisions == golden["proactive"]["licensing"]["decisions"]
    assert float(row.fees_amount_10k_yuan) == pytest.approx(golden["proactive"]["fees"]["amount_10k_yuan"])
    assert warehouse["ids"][NO_YEAR] not in set(after.report_id)
    unread = _agg(warehouse, UNREAD_ROW)  # table 2 unread: its table 2 measures are NULL, table 3 ones stay
    assert _null(unread.regulations_issued) is None and unread.handled == 11
    assert not after.duplicated(["agency", "year"]).any()


def test_parse_errors_mart(warehouse):
    errors = warehouse["snapshots"]["after_gate"]["marts.parse_errors"]
    assert list(errors.source_file) == ["garbled.pdf"]
    assert "no table 3" in errors.error.iloc[0]
    assert list(errors.error_kind) == ["not_a_report"]


def test_dims_use_contract_keys(warehouse):
    snap = warehouse["snapshots"]["after_gate"]
    dim = snap["marts.dim_outcome"].set_index("outcome")
    assert set(dim.outcome_group) == {"granted", "partially_granted", "denied", "unavailable", "rejected", "other"}
    for key in ("other", "other_no_correction", "other_unpaid_fee", "other_other"):
        assert dim.loc[key, "comparable_outcome"] == "other"
        assert dim.loc[key, "outcome_group"] == "other"
    assert dim.loc["other", "row_variant"] == "single"
    assert dim.loc["other_other", "row_variant"] == "split"
    assert list(snap["marts.dim_applicant_type"].sort_values("sort_order").applicant_type) == list(APPLICANT_COLUMNS)


# ---------------------------------------------------------------- agencies and regions


def _by_report(warehouse, table: str, phase: str = "after_gate"):
    return warehouse["snapshots"][phase][table].set_index("report_id")


def test_one_body_under_two_names_is_one_agency_and_identity_5_links_its_years(warehouse):
    """hzq2023 (洪泽区人民政府) and hzq2024 (淮安市洪泽区人民政府): one agency_id; identity 5 and the
    stock rule of the 2024 report read the 2023 report."""
    ids = warehouse["ids"]
    links = _by_report(warehouse, "marts.link_report_agency")
    assert links.loc[ids[HZQ2023], "agency"] == "洪泽区人民政府"
    assert links.loc[ids[HZQ2024], "agency"] == "淮安市洪泽区人民政府"
    assert links.loc[ids[HZQ2023], "agency_id"] == links.loc[ids[HZQ2024], "agency_id"]
    assert links.loc[ids[HZQ2024], "link_method"] == "name_rule"
    assert "320813" in links.loc[ids[HZQ2024], "link_detail"]
    terms = _terms(warehouse)
    five = terms[(terms.report_id == ids[HZQ2024]) & (terms.rule == "identity_5_carry_over")]
    assert len(five) == 7 and (five.residual == 0).all()
    assert all(f"of the 2023 report {ids[HZQ2023]}" in cells for cells in five.cells)
    stock = terms[(terms.report_id == ids[HZQ2024]) & (terms.rule == "stock_rule")]
    assert set(zip(stock.scope, stock.lhs, stock.rhs)) == {("regulations", 0.0, 0.0), ("normative_documents", 8.0, 8.0)}
    # the city's government is another body of the same city
    assert links.loc[ids["szfgs2024.txt"], "agency_id"] != links.loc[ids[HZQ2024], "agency_id"]
    dim = warehouse["snapshots"]["after_gate"]["marts.dim_agency"].set_index("agency_id")
    hzq = dim.loc[links.loc[ids[HZQ2024], "agency_id"]]
    assert hzq.agency_name == "淮安市洪泽区人民政府"
    assert hzq.names == "洪泽区人民政府 / 淮安市洪泽区人民政府"
    assert (hzq.first_year, hzq.last_year, hzq.report_count) == (2023, 2024, 2)
    assert (hzq.province, hzq.city, hzq.county, hzq.gov_level, hzq.body_kind) == (
        "江苏省", "淮安市", "洪泽区", "county", "government")


def test_every_sample_report_gets_its_province_and_city(warehouse):
    links = _by_report(warehouse, "marts.link_report_agency")
    ids = warehouse["ids"]
    expected = {
        "000_f1db75d64b6a785a.txt": ("江西省", "萍乡市", "安源区", "county", "department"),
        "001_1cb59e66f00bcffe.txt": ("吉林省", "白山市", "江源区", "county", "government"),
        "002_6379e42c8043a5dd.txt": ("浙江省", "衢州市", "衢江区", "county", "general_office"),
        "003_2e247731aada4717.txt": ("四川省", "攀枝花市", "东区", "county", "government"),
        "004_09e585feb6001ac8.txt": ("江西省", "抚州市", None, "city", "department"),
        HZQ2023: ("江苏省", "淮安市", "洪泽区", "county", "government"),
        HZQ2024: ("江苏省", "淮安市", "洪泽区", "county", "government"),
        "szfgs2024.txt": ("江苏省", "淮安市", None, "city", "government"),
    }
    for source, want in expected.items():
        row = links.loc[ids[source]]
        got = (row.province, row.city, _null(row.county), row.gov_level, row.body_kind)
        assert got == want, source
    # (the goldens carry no 索引号: the orchestration tests check the code of 002, 330803)
    regions = warehouse["snapshots"]["after_gate"]["marts.dim_region"].set_index("region_code")
    assert regions.loc["330803"].county == "衢江区" and regions.loc["330800"].region_level == "city"
    assert regions.loc["320000"].province == "江苏省" and regions.loc["320000"].region_level == "province"


def test_agency_year_is_the_bodys_with_its_region(warehouse):
    """agg_agency_year has one row per body (agency_id) and year, named as the body is (dim_agency)
    and placed where its report is linked: hzq2023 and hzq2024 are one body's two years."""
    agg = warehouse["snapshots"]["after_gate"]["marts.agg_agency_year"]
    ids = warehouse["ids"]
    assert not agg.duplicated(["agency_id", "year"]).any()
    hzq = agg[agg.report_id.isin([ids[HZQ2023], ids[HZQ2024]])].set_index("year")
    assert list(hzq.index.sort_values()) == [2023, 2024] and hzq.agency_id.nunique() == 1
    assert set(hzq.agency_name) == {"淮安市洪泽区人民政府"}
    assert (hzq.loc[2023].agency, hzq.loc[2024].agency) == ("洪泽区人民政府", "淮安市洪泽区人民政府")
    for year in (2023, 2024):
        row = hzq.loc[year]
        assert (row.province, row.city, row.county, row.region_code, row.province_code, row.city_code) == (
            "江苏省", "淮安市", "洪泽区", "320813", "320000", "320800")
        assert (row.gov_level, row.body_kind) == ("county", "government")
    # hzq2023's table 4 breaks identity 4: its table 3 counts stay, its table 4 ones are NULL
    assert (hzq.loc[2023].certified_applications, hzq.loc[2023].certified_reviews) == (True, False)
    assert hzq.loc[2023].handled == warehouse["goldens"][HZQ2023]["applications"]["total"][6]
    assert _null(hzq.loc[2023].reconsideration_total) is None
    sz = _agg(warehouse, "szfgs2024.txt")
    assert (sz.province, sz.city, _null(sz.county), sz.gov_level) == ("江苏省", "淮安市", None, "city")


def test_region_year_sums_each_table_where_it_is_certified(warehouse):
    snap = warehouse["snapshots"]["after_gate"]
    agg = snap["marts.agg_agency_year"]
    regions = snap["marts.agg_region_year"]
    ids = warehouse["ids"]
    # every agency-year counts once in its province's row, and in its city's row when it has a city
    for grain, rows_of in (("province", agg), ("city", agg[agg.city_code.notna()])):
        rows = regions[regions.grain == grain]
        assert rows.agency_years.sum() == len(rows_of), grain
        assert rows.applications_agency_years.sum() == rows_of.certified_applications.sum(), grain
        assert rows.reviews_agency_years.sum() == rows_of.certified_reviews.sum(), grain
        assert rows.handled.sum() == rows_of.handled.sum(), grain
        assert rows.reconsideration_total.sum() == rows_of.reconsideration_total.sum(), grain
    province = regions[regions.grain == "province"].set_index(["province", "year"])
    jiangsu = province.loc[("江苏省", 2024)]
    # hzq2024 and szfgs2024, both certified
    assert (jiangsu.reports, jiangsu.certified_reports, jiangsu.agencies, jiangsu.agency_years) == (2, 2, 2, 2)
    expected = agg[agg.report_id.isin([ids[HZQ2024], ids["szfgs2024.txt"]])]
    assert jiangsu.handled == expected.handled.sum()
    assert jiangsu.denial_rate == pytest.approx(expected.denied.sum() / expected.handled.sum()) \
        if expected.handled.sum() else _null(jiangsu.denial_rate) is None
    # 2023: hzq2023 alone, quarantined for its table 4 only: its table 3 is counted, table 4 is NULL (not 0)
    jiangsu23 = province.loc[("江苏省", 2023)]
    hzq23 = _agg(warehouse, HZQ2023)
    assert (jiangsu23.reports, jiangsu23.certified_reports, jiangsu23.applications_certified_reports,
            jiangsu23.reviews_certified_reports) == (1, 0, 1, 0)
    assert (jiangsu23.agency_years, jiangsu23.applications_agency_years, jiangsu23.reviews_agency_years) == (1, 1, 0)
    assert jiangsu23.handled == hzq23.handled and jiangsu23.denied == hzq23.denied
    assert _null(jiangsu23.reconsideration_total) is None and _null(jiangsu23.reconsideration_correction_rate) is None
    assert jiangsu23.regulations_issued == hzq23.regulations_issued  # its table 2 is certified


def test_the_panel_follows_a_body_across_its_names_table_by_table(warehouse):
    snap = warehouse["snapshots"]["after_gate"]
    ids = warehouse["ids"]
    links = _by_report(warehouse, "marts.link_report_agency")
    panel = snap["marts.agg_agency_panel"]
    assert not panel.duplicated(["agency_id", "year"]).any()
    fz = panel[panel.agency_id == links.loc[ids["004_09e585feb6001ac8.txt"], "agency_id"]].set_index("year")
    assert list(fz.index.sort_values()) == [2022, 2023]
    assert fz.loc[2023].prev_year == 2022 and fz.loc[2023].prev_report_id == ids[PRIOR_OF_004]
    assert fz.loc[2023].handled_change == fz.loc[2023].handled - fz.loc[2022].handled
    assert _null(fz.loc[2022].prev_year) is None
    # hzq2023 breaks identity 4 in table 4 only: its table 3 is certified, so the body has both years,
    # the change in table 3's measures is there and the change in table 4's is NULL
    hzq = panel[panel.agency_id == links.loc[ids[HZQ2024], "agency_id"]].set_index("year")
    assert list(hzq.index.sort_values()) == [2023, 2024]
    now = hzq.loc[2024]
    assert (now.agency, now.prev_agency, now.agency_name) == ("淮安市洪泽区人民政府", "洪泽区人民政府", "淮安市洪泽区人民政府")
    assert (now.prev_year, now.prev_report_id) == (2023, ids[HZQ2023])
    assert (now.certified_reviews, now.prev_certified_applications, now.prev_certified_reviews) == (True, True, False)
    assert now.handled_change == now.handled - hzq.loc[2023].handled
    assert now.denial_rate_change == pytest.approx(now.denial_rate - hzq.loc[2023].denial_rate)
    assert _null(now.reconsideration_total_change) is None and _null(now.prev_reconsideration_total) is None
    assert now.regulations_issued_change == now.regulations_issued - hzq.loc[2023].regulations_issued
    # before the gate's issues hzq2023 is certified whole: its table 4 change is there too
    before = warehouse["snapshots"]["no_issues"]["marts.agg_agency_panel"]
    whole = before[before.agency_id == now.agency_id].set_index("year").loc[2024]
    assert whole.reconsideration_total_change == whole.reconsideration_total - whole.prev_reconsideration_total
