"""The Dagster code location, end to end: real Dagster, real dbt, real DuckDB in a temporary home.

One home is materialized once for the module (the first run) and shared; the later
tests add runs to it, each test checking only what its own run changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from ingestion import parts
from ingestion.parse import parse_file
from ingestion.record import ParseError
from ingestion.templates import APPLICANT_COLUMNS, REVIEW_COLUMNS
from orchestration import paths, runner
from fixture_paths import FIXTURES, SAMPLES

GOLDEN = sorted((FIXTURES / "golden").glob("*.json"))
BAD_FILES = {"empty.txt": b"", "junk.bin": bytes(range(256)) * 16}


@dataclass
class Warehouse:
    paths: paths.Paths
    instance: dg.DagsterInstance
    definitions: dg.Definitions
    first: runner.Outcome

    def run(self) -> runner.Outcome:
        return runner.run_warehouse(self.instance, self.definitions)


@pytest.fixture(scope="module")
def definitions(dbt_manifest: Path) -> dg.Definitions:
    return runner.load_definitions()


@pytest.fixture(scope="module")
def warehouse(definitions, tmp_path_factory, test_root: Path) -> Warehouse:
    """The sample reports plus two bad files, materialized once through warehouse_job.

    The home is the session's (conftest.py), the one the dbt manifest was parsed for.
    """
    inbox = tmp_path_factory.mktemp("inbox")
    shutil.copytree(paths.SAMPLES_DIR, inbox, dirs_exist_ok=True)
    for name, data in BAD_FILES.items():
        (inbox / name).write_bytes(data)
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test(temp_dir=str(test_root)) as instance:
        env.setenv("OGI_INBOX", str(inbox))
        first = runner.run_warehouse(instance, definitions)
        yield Warehouse(paths.current(), instance, definitions, first)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def marts_snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every marts table, sorted: equal when the marts did not change."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()]
        return {t: sorted(con.execute(f"select * from marts.{t}").fetchall(), key=repr) for t in sorted(tables)}


# --------------------------------------------------------------------------- definitions


def test_definitions_load(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_reports", "raw/reports", "raw/cells", "raw/parse_errors", "quality/quality_issues",
            "published_warehouse"} <= keys
    assert {"marts/dim_report", "marts/fct_applications", "marts/fct_outcomes", "marts/fct_reviews"} <= keys

    def parents(key: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}

    def ancestors(key: str) -> set[str]:
        seen, todo = set(), [key]
        while todo:
            for parent in parents(todo.pop()) - seen:
                seen.add(parent)
                todo.append(parent)
        return seen

    assert parents("raw/reports") == {"raw_reports"}
    assert parents("staging/stg_reports") == {"raw/reports"}  # the dbt source connects to the Python asset
    assert parents("quality/quality_issues") == {"intermediate/int_identity_terms"}
    assert "quality/quality_issues" in ancestors("marts/fct_outcomes")  # the marts wait for the gate
    assert "quality/quality_issues" not in ancestors("intermediate/int_identity_terms")
    assert {"marts/fct_outcomes", "marts/dim_report"} <= parents("published_warehouse")

    assert "dbt" in definitions.resources  # defs/resources.py was loaded alongside the rest (P6)
    job = definitions.resolve_job_def(runner.JOB_NAME)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == keys  # everything, no stubs
    assert job.executor_def is dg.in_process_executor
    assert definitions.resolve_job_def("__ASSET_JOB").executor_def is dg.in_process_executor  # UI launches too


def test_schedule_runs_everything_at_two_beijing_time(definitions: dg.Definitions) -> None:
    schedule = definitions.resolve_schedule_def("nightly_warehouse")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert schedule.job_name == runner.JOB_NAME
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = datetime(2025, 3, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    assert len(data.run_requests) == 1
    dg.validate_run_config(definitions.resolve_job_def(runner.JOB_NAME), data.run_requests[0].run_config)


def test_sensor_starts_a_run_when_files_land(definitions: dg.Definitions, tmp_path: Path, monkeypatch) -> None:
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    assert sensor.job_name == runner.JOB_NAME
    monkeypatch.setenv("OGI_INBOX", str(tmp_path))
    settled = time.time() - 2 * 60

    def tick(cursor: str | None):
        return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))

    empty = tick(None)
    assert not empty.run_requests and "no files" in empty.skip_message

    shutil.copy(SAMPLES / GOLDEN[0].with_suffix(".txt").name, tmp_path)
    for f in tmp_path.iterdir():
        os.utime(f, (settled, settled))
    first = tick(None)
    assert len(first.run_requests) == 1 and first.cursor
    assert first.run_requests[0].run_key == first.cursor
    dg.validate_run_config(definitions.resolve_job_def(runner.JOB_NAME), first.run_requests[0].run_config)

    same = tick(first.cursor)
    assert not same.run_requests and same.skip_message

    (tmp_path / "new.txt").write_text("a report still being copied in")
    landing = tick(first.cursor)
    assert not landing.run_requests and "settle" in landing.skip_message

    os.utime(tmp_path / "new.txt", (settled, settled))
    second = tick(first.cursor)
    assert len(second.run_requests) == 1 and second.cursor not in (None, first.cursor)


# --------------------------------------------------------------------------- end to end


def test_first_run_materializes_everything(warehouse: Warehouse) -> None:
    first = warehouse.first
    assert first.success, first.failures
    assert first.metadata("raw_reports")["files_seen"] == len(list(paths.SAMPLES_DIR.iterdir())) + len(BAD_FILES)
    assert first.metadata("raw/reports")["parsed"] == len(list(paths.SAMPLES_DIR.iterdir()))
    # every data test passes; the one failed check is the quality gate's report-level rule
    # finding hzq2023's identity-4 break (a warning-level check: the report is quarantined)
    assert first.failed_checks == ["quality/quality_issues:identity_4_reviews"] and first.checks["passed"] > 0
    p = warehouse.paths
    assert p.warehouse.exists() and (p.parquet_dir / "quality_issues.parquet").exists()
    assert parts.table_rows(p.parquet_dir) == {
        name: first.metadata(f"raw/{name}")["dagster/row_count"] for name in parts.PARSED_TABLES
    }


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.stem)
def test_marts_match_golden_records(warehouse: Warehouse, golden: Path) -> None:
    g = json.loads(golden.read_text(encoding="utf-8"))
    db = warehouse.paths.warehouse
    report_id = sha256(paths.SAMPLES_DIR / g["source"])
    assert query(db, "select source_file, agency, year, template, certified from marts.dim_report where report_id = ?",
                 [report_id]) == [(g["source"], g["agency"], g["year"], g["template"], True)]

    outcomes = dict(query(db, "select applicant_type, sum(count) from marts.fct_outcomes where report_id = ? group by 1",
                          [report_id]))
    assert outcomes == dict(zip(APPLICANT_COLUMNS, g["applications"]["total"]))

    applications = {t: (n, c) for t, n, c in query(
        db, "select applicant_type, new_received, carried_over from marts.fct_applications where report_id = ?", [report_id])}
    apps = g["applications"]
    assert applications == {t: (n, c) for t, n, c in zip(APPLICANT_COLUMNS, apps["new_received"], apps["carried_over"])}

    reviews = {(pr, res): (n, total) for pr, res, n, total in query(
        db, "select proceeding, review_result, count, printed_total from marts.fct_reviews where report_id = ?", [report_id])}
    assert reviews == {
        (proceeding, result): (value, row[-1])
        for proceeding, row in g["reviews"].items()
        for result, value in zip(REVIEW_COLUMNS[:-1], row)
    }


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_sql(*needles: str) -> list[str]:
    """The README's SQL examples that name every one of ``needles`` (each statement of a block)."""
    text = README.read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```sql\n")[1:]]
    return [stmt.strip() for b in blocks for stmt in b.split(";") if stmt.strip() and all(n in stmt for n in needles)]


def test_one_body_across_years_and_its_place(warehouse: Warehouse) -> None:
    """The samples' hzq2023 (洪泽区人民政府) and hzq2024 (淮安市洪泽区人民政府) are one body: one agency_id,
    identity 5 judged between them; every sample report has its province and city."""
    db = warehouse.paths.warehouse
    assert warehouse.first.metadata("raw/agency_links")["dagster/row_count"] == len(list(paths.SAMPLES_DIR.iterdir()))
    hzq = {source: sha256(paths.SAMPLES_DIR / source) for source in ("hzq2023.txt", "hzq2024.txt")}
    ids = dict(query(db, "select report_id, agency_id from marts.link_report_agency where report_id in (?, ?)",
                     list(hzq.values())))
    assert len(ids) == 2 and len(set(ids.values())) == 1
    five = query(db, "select scope, residual, cells from intermediate.int_identity_terms "
                     "where report_id = ? and rule = 'identity_5_carry_over'", [hzq["hzq2024.txt"]])
    assert len(five) == len(APPLICANT_COLUMNS)
    assert all(residual == 0 and f"of the 2023 report {hzq['hzq2023.txt']}" in cells for _, residual, cells in five)
    places = dict((source, rest) for source, *rest in query(
        db, "select r.source_file, l.province, l.city, l.region_code, l.region_source "
            "from marts.link_report_agency l join marts.dim_report r using (report_id)"))
    assert places == {
        "000_f1db75d64b6a785a.txt": ["江西省", "萍乡市", "360302", "name"],
        "001_1cb59e66f00bcffe.txt": ["吉林省", "白山市", "220605", "name"],
        "002_6379e42c8043a5dd.txt": ["浙江省", "衢州市", "330803", "name+division_code"],  # 索引号 330803-…
        "003_2e247731aada4717.txt": ["四川省", "攀枝花市", "510402", "name"],
        "004_09e585feb6001ac8.txt": ["江西省", "抚州市", "361000", "name"],
        "hzq2023.txt": ["江苏省", "淮安市", "320813", "name"],
        "hzq2024.txt": ["江苏省", "淮安市", "320813", "name"],
        "szfgs2024.txt": ["江苏省", "淮安市", "320800", "name"],
    }


def test_readme_examples_on_bodies_and_regions(warehouse: Warehouse) -> None:
    db = warehouse.paths.warehouse
    [by_province] = readme_sql("agg_region_year", "denial_rate")
    rows = query(db, by_province)
    handled = query(db, "select distinct province from marts.agg_region_year where grain = 'province' and handled > 0")
    assert {province for province, *_ in rows} == {p for (p,) in handled} >= {"江苏省", "浙江省", "四川省"}
    jiangsu = [row for row in rows if row[0] == "江苏省"]
    agg = query(db, "select sum(handled), sum(denied) from marts.agg_agency_year a join marts.link_report_agency l "
                    "using (report_id) where l.province = '江苏省'")
    assert [(handled, denied) for _, _, _, handled, denied, _ in jiangsu] == agg
    reports, panel = readme_sql("淮安市洪泽区人民政府")
    years = query(db, reports)
    assert [(year, name, province, city) for year, name, _, _, province, city in years] == [
        (2023, "洪泽区人民政府", "江苏省", "淮安市"), (2024, "淮安市洪泽区人民政府", "江苏省", "淮安市")]
    assert [certified for _, _, certified, *_ in years] == [False, True]  # 2023 breaks identity 4
    assert [year for year, *_ in query(db, panel)] == [2024]  # the certified years


def test_bad_files_are_kept_and_reported(warehouse: Warehouse) -> None:
    p = warehouse.paths
    errors = {r["source_file"]: r for r in parts.read_parsed(p.parquet_dir, "parse_errors").to_pylist()}
    assert set(errors) == set(BAD_FILES)
    for name, data in BAD_FILES.items():
        with pytest.raises(ParseError) as expected:
            parse_file(p.inbox / name)
        row = errors[name]
        assert (row["error"], row["error_kind"]) == (expected.value.reason, expected.value.kind.value)
        assert row["report_id"] == hashlib.sha256(data).hexdigest()
        assert [f.read_bytes() for f in (p.raw_dir / row["report_id"][:2]).glob(row["report_id"] + ".*")] == [data]
    assert sorted(query(p.warehouse, "select source_file from marts.parse_errors")) == [(n,) for n in sorted(BAD_FILES)]
    listed = {f["source_file"]: (f["error"], f["error_kind"])
              for f in warehouse.first.metadata("raw/parse_errors")["failed_files"]}
    assert listed == {name: (row["error"], row["error_kind"]) for name, row in errors.items()}
    kinds = query(p.warehouse, "select source_file, error_kind from marts.parse_errors order by 1")
    assert kinds == [(n, "unreadable") for n in sorted(BAD_FILES)]


def test_second_run_without_new_files_changes_nothing(warehouse: Warehouse) -> None:
    p = warehouse.paths
    files = [f for name in parts.PARSED_TABLES for f in parts.table_files(p.parquet_dir, name)]
    tables = {f.name: (f.stat().st_mtime_ns, sha256(f)) for f in files}
    marts = marts_snapshot(p.warehouse)

    again = warehouse.run()
    assert again.success, again.failures
    assert (again.metadata("raw_reports")["new_files"], again.metadata("raw/reports")["parsed"]) == (0, 0)
    assert again.metadata("raw/reports")["rewritten"] is False
    files = [f for name in parts.PARSED_TABLES for f in parts.table_files(p.parquet_dir, name)]
    assert {f.name: (f.stat().st_mtime_ns, sha256(f)) for f in files} == tables
    assert marts_snapshot(p.warehouse) == marts


def test_new_file_is_parsed_alone_while_a_reader_holds_the_warehouse(warehouse: Warehouse) -> None:
    p = warehouse.paths
    before = query(p.warehouse, "select count(*) from marts.dim_report")[0][0]
    reader = duckdb.connect(str(p.warehouse), read_only=True)  # an analyst's open session
    try:
        shutil.copy(FIXTURES / "realworld" / "hzq2024.pdf", p.inbox)
        outcome = warehouse.run()
        assert outcome.success, outcome.failures
        assert outcome.metadata("raw_reports")["new_files"] == 1
        assert (outcome.metadata("raw/reports")["parsed"], outcome.metadata("raw/reports")["failed"]) == (1, 0)
        assert reader.execute("select count(*) from marts.dim_report").fetchone()[0] == before  # its snapshot
    finally:
        reader.close()
    rows = query(p.warehouse, "select source_file, format from marts.dim_report where source_file = 'hzq2024.pdf'")
    assert rows == [("hzq2024.pdf", "pdf")]
    assert query(p.warehouse, "select count(*) from marts.dim_report")[0][0] == before + 1


def test_failed_run_leaves_the_published_warehouse_alone(warehouse: Warehouse) -> None:
    p = warehouse.paths
    published = (p.warehouse.stat().st_ino, sha256(p.warehouse))
    blocker = duckdb.connect(str(p.build_warehouse))  # holds dbt's working file: dbt cannot open it
    try:
        outcome = warehouse.run()
    finally:
        blocker.close()
    assert not outcome.success
    assert [step for step, _ in outcome.failures] == ["dbt_pre_gate"]
    assert "published_warehouse" not in outcome.materializations
    assert (p.warehouse.stat().st_ino, sha256(p.warehouse)) == published
    assert not list(p.home.glob(".warehouse.duckdb.*"))


def test_dbt_resource_does_not_run_dbt_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """dagster-dbt would run `dbt --version` (which asks pypi.org) before each dbt command."""
    import subprocess
    from importlib.metadata import version

    from orchestration.dbt_project import DBT_EXECUTABLE, OfflineDbtCliResource, dbt_project

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    resource = OfflineDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    assert str(resource._cli_version) == version("dbt-core")
