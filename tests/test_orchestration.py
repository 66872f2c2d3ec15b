"""The Dagster code location, end to end: real Dagster, real dbt, real DuckDB in a temporary home.

One home is materialized once for the module (the first run) and shared; the later
tests add runs to it, each test checking only what its own run changed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
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
from orchestration import paths, runlog, runner, runstate

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

    The home is the session's (conftest.py); its runs parse dbt into HOME/build/dbt-target.
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

    assert "run_guard" in definitions.resources  # defs/resources.py was loaded alongside the rest (P6)
    job = definitions.resolve_job_def(runner.JOB_NAME)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == keys  # everything, no stubs
    assert job.executor_def is dg.in_process_executor
    assert definitions.resolve_job_def("__ASSET_JOB").executor_def is dg.in_process_executor  # UI launches too


def test_schedule_runs_everything_at_two_beijing_time(definitions: dg.Definitions, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGI_HOME", str(tmp_path / "home"))  # no successful run yet: the schedule runs
    schedule = definitions.resolve_schedule_def("nightly_warehouse")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert schedule.job_name == runner.JOB_NAME
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = datetime(2025, 3, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    assert len(data.run_requests) == 1
    dg.validate_run_config(definitions.resolve_job_def(runner.JOB_NAME), data.run_requests[0].run_config)


def _hold_lock(home: Path) -> subprocess.Popen:
    """Another process holding the home's lock (as a run of the UI would), until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom orchestration.lock import home_lock\n"
         "with home_lock(Path(sys.argv[1]), 'a test holder'):\n    print('held', flush=True)\n    time.sleep(600)",
         str(home)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_sensor_starts_a_run_when_files_land(definitions: dg.Definitions, tmp_path: Path, monkeypatch) -> None:
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    assert sensor.job_name == runner.JOB_NAME
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("OGI_INBOX", str(inbox))
    monkeypatch.setenv("OGI_HOME", str(tmp_path / "home"))
    settled = time.time() - 2 * 60

    def tick(cursor: str | None = None):
        return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))

    empty = tick()
    assert not empty.run_requests and "no files" in empty.skip_message

    shutil.copy(SAMPLES / GOLDEN[0].with_suffix(".txt").name, inbox)
    for f in inbox.iterdir():
        os.utime(f, (settled, settled))
    first = tick()
    assert len(first.run_requests) == 1 and first.cursor
    assert first.run_requests[0].run_key == first.cursor
    dg.validate_run_config(definitions.resolve_job_def(runner.JOB_NAME), first.run_requests[0].run_config)
    # no run has taken the file in yet: the same request, which Dagster starts once (one run per key)
    assert [r.run_key for r in tick(first.cursor).run_requests] == [first.cursor]

    (inbox / "new.txt").write_text("a report still being copied in")
    landing = tick(first.cursor)
    assert not landing.run_requests and "settle" in landing.skip_message

    os.utime(inbox / "new.txt", (settled, settled))
    second = tick(first.cursor)
    assert len(second.run_requests) == 1 and second.cursor not in (None, first.cursor)

    holder = _hold_lock(tmp_path / "home")  # a run of the UI or `ogi run` working on the home
    try:
        busy = tick(second.cursor)
        assert not busy.run_requests and "in progress" in busy.skip_message and "a test holder" in busy.skip_message
    finally:
        holder.kill()
        holder.wait()


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


def ogi(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The ``ogi`` command of this environment, as a user runs it."""
    return subprocess.run([str(Path(sys.executable).parent / "ogi"), *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, COLUMNS="200"))


def test_sensor_and_schedule_start_nothing_after_a_successful_run(warehouse: Warehouse,
                                                                  definitions: dg.Definitions) -> None:
    """Whoever ran it (here the job in this process), the next tick sees nothing new (issue: `ogi ui` after `ogi run`)."""
    record = runstate.Record.read(warehouse.paths.home)
    assert record is not None and record.run_id == warehouse.first.run_id
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    tick = sensor.evaluate_tick(dg.build_sensor_context())
    assert not tick.run_requests and "no new files" in tick.skip_message and record.run_id[:8] in tick.skip_message
    schedule = definitions.resolve_schedule_def("nightly_warehouse")
    nightly = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=datetime.now(ZoneInfo("UTC"))))
    assert not nightly.run_requests and "nothing new" in nightly.skip_message


def test_noop_ogi_run_runs_no_dbt_and_publishes_nothing(warehouse: Warehouse) -> None:
    p = warehouse.paths
    watched = [p.warehouse, p.build_warehouse, *(p.build_warehouse.parent / "dbt-target").iterdir()]
    before = {f: f.stat().st_mtime_ns for f in watched}
    logs = set(runlog.runs_dir(p.home).iterdir())
    runs = p.dagster_home / "history" / "runs"
    recorded = set(runs.iterdir()) if runs.exists() else set()
    result = ogi("run", "--home", str(p.home), "--inbox", str(p.inbox))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing new since run" in result.stdout and "No dbt, no quality gate, nothing published" in result.stdout
    assert {f: f.stat().st_mtime_ns for f in watched} == before  # dbt parsed and built nothing, nothing published
    assert set(runlog.runs_dir(p.home).iterdir()) == logs  # no run was started
    assert (set(runs.iterdir()) if runs.exists() else set()) == recorded  # nor recorded by Dagster


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
    agg = query(db, "select year, sum(handled), sum(denied) from marts.agg_agency_year "
                    "where province = '江苏省' and certified_applications group by year order by year")
    assert [(year, handled, denied) for _, year, _, handled, denied, _ in jiangsu] == agg
    assert [year for year, *_ in agg] == [2023, 2024]  # hzq2023's table 3 is certified: 2023 is counted
    reports, panel = readme_sql("淮安市洪泽区人民政府")
    years = query(db, reports)
    assert [(year, name, province, city) for year, name, _, _, _, province, city in years] == [
        (2023, "洪泽区人民政府", "江苏省", "淮安市"), (2024, "淮安市洪泽区人民政府", "江苏省", "淮安市")]
    # 2023 breaks identity 4 in table 4 only: its table 3 is certified
    assert [(applications, reviews) for _, _, applications, reviews, *_ in years] == [(True, False), (True, True)]
    rows = query(db, panel)
    assert [(year, agency, prev_year) for year, agency, _, prev_year, *_ in rows] == [
        (2023, "洪泽区人民政府", None), (2024, "淮安市洪泽区人民政府", 2023)]
    (_, _, handled23, *_), (_, _, handled24, _, change, _, reconsiderations, reconsideration_change) = rows
    assert change == handled24 - handled23
    assert reconsiderations is not None and reconsideration_change is None  # 2023's table 4 is not certified


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


def test_two_ogi_runs_on_one_home_take_turns(warehouse: Warehouse, definitions: dg.Definitions) -> None:
    """The second waits for the first (the home's lock), then finds nothing new; so does the sensor."""
    p = warehouse.paths
    shutil.copy(p.inbox / GOLDEN[0].with_suffix(".txt").name, p.inbox / "dropped_twice.txt")
    command = [str(Path(sys.executable).parent / "ogi"), "run", "--home", str(p.home), "--inbox", str(p.inbox)]
    env = dict(os.environ, COLUMNS="200")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    owner = p.home / "ogi.lock.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first holds the lock
        if owner.exists() and json.loads(owner.read_text() or "{}").get("pid") == first.pid:
            break
        assert first.poll() is None, first.stdout.read()
        time.sleep(0.05)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    out_first, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out_first
    assert "1 new or changed file" in out_first and "Warehouse ready" in out_first
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"Waiting for ogi run (pid {first.pid}" in second.stdout
    assert "Nothing new since run" in second.stdout
    log = re.search(r"log: (\S+\.log)", out_first).group(1)
    assert Path(log).parent == runlog.runs_dir(p.home) and "STEP_SUCCESS" in Path(log).read_text(encoding="utf-8")
    # `ogi ui` on the home `ogi run` has just built: its sensor starts nothing
    tick = definitions.resolve_sensor_def("inbox_sensor").evaluate_tick(dg.build_sensor_context())
    assert not tick.run_requests and f"since run {Path(log).stem[:8]}" in tick.skip_message


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
    # another process holds dbt's working file (DuckDB: one writer per file): dbt cannot open it
    blocker = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\nc = duckdb.connect(sys.argv[1])\n"
                                "print('open', flush=True)\ntime.sleep(600)", str(p.build_warehouse)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert blocker.stdout.readline().strip() == "open"
        outcome = warehouse.run()
    finally:
        blocker.kill()
        blocker.wait()
    assert not outcome.success
    assert [step for step, _ in outcome.failures] == ["dbt_pre_gate"]
    assert "published_warehouse" not in outcome.materializations
    assert (p.warehouse.stat().st_ino, sha256(p.warehouse)) == published
    assert not list(p.home.glob(".warehouse.duckdb.*"))


def test_incremental_run_gives_what_a_full_rebuild_gives(warehouse: Warehouse) -> None:
    """After runs that added files (dbt's data-only builds, the gate judging what changed), build the
    whole working warehouse again from the same Parquet: the same marts, row for row."""
    p = warehouse.paths
    incremental = marts_snapshot(p.warehouse)
    last = warehouse.run()  # nothing new: a data-only build, the seeds and the views kept from the last full build
    assert last.success, last.failures
    assert "reads no data" in last.metadata("reference/ref_applicant_types")["ogi/kept"]
    assert "a view" in last.metadata("staging/stg_cells")["ogi/kept"]
    assert "ogi/kept" not in last.metadata("marts/dim_report")
    dbt_lines = runlog.log_path(p.home, last.run_id).read_text(encoding="utf-8")
    assert "PASS not_null_stg_cells_report_id" in dbt_lines  # a kept view's tests run on the current data
    assert "view model staging.stg_cells" not in dbt_lines
    assert marts_snapshot(p.warehouse) == incremental
    with duckdb.connect(str(p.build_warehouse)) as con:  # a kept relation gone from the working warehouse
        con.execute("drop view staging.stg_inventory")
    rebuilt = warehouse.run()
    assert rebuilt.success, rebuilt.failures
    assert "ogi/kept" not in rebuilt.metadata("staging/stg_inventory")
    assert "lacks staging.stg_inventory" in runlog.log_path(p.home, rebuilt.run_id).read_text(encoding="utf-8")
    assert marts_snapshot(p.warehouse) == incremental
    old_log = runlog.runs_dir(p.home) / "an-old-run.log"
    old_log.write_text("from long ago\n")
    os.utime(old_log, (time.time() - 40 * 86400,) * 2)
    for f in (p.build_warehouse, p.build_warehouse.parent / "dbt_code.json", p.parquet_dir / "quality_judged.parquet"):
        f.unlink()
    # another process holds the home for a few seconds: the run waits for it
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from orchestration.lock import home_lock\n"
                               "with home_lock(Path(sys.argv[1]), 'a test holder'):\n"
                               "    print('held', flush=True)\n    time.sleep(3)", str(p.home)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    full = warehouse.run()
    holder.wait()
    assert full.success, full.failures
    assert "ogi/kept" not in full.metadata("reference/ref_applicant_types")  # everything built
    assert full.metadata("quality/quality_issues")["judged_scope"] == "everything"
    assert marts_snapshot(p.warehouse) == incremental
    log = runlog.log_path(p.home, full.run_id).read_text(encoding="utf-8")
    assert "waiting for a test holder" in log and "dbt: " in log and "STEP_SUCCESS" in log
    assert not old_log.exists()  # older than OGI_LOG_RETENTION_DAYS (30)


def test_missing_inbox_builds_and_publishes_nothing(warehouse: Warehouse, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    p = warehouse.paths
    published = (p.warehouse.stat().st_ino, sha256(p.warehouse))
    mistyped = ogi("run", "--home", str(p.home), "--inbox", str(tmp_path / "inbxo"))
    assert mistyped.returncode == 2 and "does not exist" in mistyped.stdout and "nothing built" in mistyped.stdout
    fresh = ogi("run", "--home", str(tmp_path / "new_home"), "--inbox", "/nonexistent")
    assert fresh.returncode == 2 and not (tmp_path / "new_home").exists()
    unreadable = tmp_path / "locked"
    unreadable.mkdir(mode=0o000)
    if os.geteuid() != 0:  # root reads any folder
        assert ogi("run", "--home", str(p.home), "--inbox", str(unreadable)).returncode == 2
    unreadable.chmod(0o700)
    # a run of the UI (schedule, sensor) on a home whose inbox has gone: raw_reports fails first
    monkeypatch.setenv("OGI_INBOX", str(tmp_path / "gone"))
    outcome = warehouse.run()
    assert not outcome.success
    assert outcome.failures[0][0] == "raw_reports" and "does not exist" in outcome.failures[0][1]
    assert "published_warehouse" not in outcome.materializations
    assert (p.warehouse.stat().st_ino, sha256(p.warehouse)) == published


def test_ogi_sql_reads_the_published_warehouse(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    p = warehouse.paths
    monkeypatch.setenv("OGI_HOME", str(p.home))
    (reports,) = query(p.warehouse, "select count(*) from marts.dim_report")[0]
    home = ["--home", str(p.home)]
    table = CliRunner().invoke(app, ["sql", *home, "select count(*) as n from dim_report"])
    assert table.exit_code == 0 and "│ n" in table.output.replace("┃", "│") and str(reports) in table.output
    as_csv = CliRunner().invoke(app, ["sql", *home, "--csv", "select source_file, year from dim_report order by 1"])
    assert as_csv.exit_code == 0
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0] == ["source_file", "year"] and len(rows) == reports + 1
    as_json = CliRunner().invoke(app, ["sql", *home, "--json", "select report_id, certified from dim_report"])
    records = [json.loads(line) for line in as_json.output.splitlines()]
    assert len(records) == reports and set(records[0]) == {"report_id", "certified"}
    write = CliRunner().invoke(app, ["sql", *home, "create table marts.x as select 1 as one"])
    assert write.exit_code == 1 and "read-only" in (write.output + write.stderr).lower()
    assert query(p.warehouse, "select count(*) from duckdb_tables() where table_name = 'x'") == [(0,)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_ogi_export_writes_the_marts_with_their_documentation(warehouse: Warehouse, tmp_path: Path, fmt: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    p = warehouse.paths
    monkeypatch.setenv("OGI_HOME", str(p.home))
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["export", "--home", str(p.home), "--to", str(out), "--format", fmt])
    assert result.exit_code == 0, result.output
    names = [t for (t,) in query(p.warehouse, "select table_name from duckdb_tables() where schema_name = 'marts'")]
    counts = {t: query(p.warehouse, f"select count(*) from marts.{t}")[0][0] for t in names}
    tables = {r["table"]: r for r in csv.DictReader(open(out / "tables.csv", encoding="utf-8"))}
    assert {t: int(r["rows"]) for t, r in tables.items()} == counts
    assert "certified" in tables["dim_report"]["description"]
    columns = {(r["table"], r["column"]): r["description"] for r in csv.DictReader(open(out / "columns.csv",
                                                                                         encoding="utf-8"))}
    assert "all three tables are certified" in columns[("dim_report", "certified")]
    if fmt == "csv":
        rows = list(csv.reader(open(out / "dim_report.csv", encoding="utf-8")))
        assert len(rows) == counts["dim_report"] + 1 and "certified" in rows[0]
    elif fmt == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(out / "fct_outcomes.xlsx", read_only=True)
        data = list(book.worksheets[0].iter_rows(values_only=True))
        assert len(data) == counts["fct_outcomes"] + 1 and "report_id" in data[0]
        about = list(book["columns"].iter_rows(values_only=True))
        assert ("description" in about[1]) and any(r and r[0] == "report_id" for r in about)
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(out / "dim_report.parquet")
        assert table.num_rows == counts["dim_report"]
        docs = json.loads(table.schema.metadata[b"ogi_docs"])
        assert "all three tables are certified" in docs["columns"]["certified"]


def test_the_readmes_queries_run_with_ogi_sql(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query the README shows runs as it is with what the project installs."""
    from typer.testing import CliRunner

    from orchestration.cli import app

    readme = (paths.REPO_DIR / "README.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", readme, re.S)
    queries += re.findall(r'^ogi sql "(.*?)"$', readme, re.M)
    assert len(queries) >= 5
    monkeypatch.setenv("OGI_HOME", str(warehouse.paths.home))
    for sql in queries:
        result = CliRunner().invoke(app, ["sql", "--home", str(warehouse.paths.home), "--csv", sql])
        assert result.exit_code == 0, f"{sql}\n{result.output}{result.stderr}"
        assert result.output.count("\n") >= 1  # a header at least


ALIASES = paths.DBT_PROJECT_DIR / "models" / "intermediate" / "reference" / "agency_aliases.csv"


def test_an_edited_alias_seed_relinks_on_the_next_ogi_run(warehouse: Warehouse) -> None:
    """The users' alias table is a dbt seed: editing it changes the dbt project's fingerprint, so the
    next `ogi run` is no no-op (runstate), relinks every name (agency_links) and loads the seed again;
    taking the line out again is picked up the same way."""
    p = warehouse.paths
    run = ["run", "--home", str(p.home), "--inbox", str(p.inbox)]
    settled = ogi(*run)  # whatever the tests before left in the home
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert runstate.check(p).nothing_new
    report = sha256(paths.SAMPLES_DIR / "000_f1db75d64b6a785a.txt")
    link_sql = "select agency, link_method, alias_of, agency_id from marts.link_report_agency where report_id = ?"
    [(printed, method, alias_of, agency_id)] = query(p.warehouse, link_sql, [report])
    assert (printed, method, alias_of) == ("安源区商务局", "name_rule", None)
    original = ALIASES.read_bytes()
    try:
        ALIASES.write_bytes(original + "安源区商务局,萍乡市安源区商务局,the body's full name\n".encode())
        verdict = runstate.check(p)
        assert not verdict.nothing_new and "dbt project changed" in verdict.reason
        edited = ogi(*run)
        assert edited.returncode == 0, edited.stdout + edited.stderr
        assert "Nothing new" not in edited.stdout and "Warehouse ready" in edited.stdout
        # the same body (萍乡市安源区's 商务局), now linked by the user's alias
        assert query(p.warehouse, link_sql, [report]) == [(printed, "alias", "萍乡市安源区商务局", agency_id)]
        assert query(p.warehouse, "select alias, canonical from reference.agency_aliases") == [
            ("安源区商务局", "萍乡市安源区商务局")]
        assert runstate.check(p).nothing_new
    finally:
        ALIASES.write_bytes(original)
    restored = ogi(*run)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Nothing new" not in restored.stdout
    assert query(p.warehouse, link_sql, [report]) == [(printed, "name_rule", None, agency_id)]
    assert query(p.warehouse, "select count(*) from reference.agency_aliases") == [(0,)]


def test_the_dbt_fingerprint_follows_the_paths_the_views_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging views hold the home's Parquet folder in their SQL: a home moved elsewhere (or
    another home) is not built with the kept views of the first."""
    from orchestration import dbt_inprocess

    monkeypatch.setenv("OGI_HOME", str(tmp_path / "a"))
    first = dbt_inprocess.dbt_fingerprint()
    monkeypatch.setenv("OGI_HOME", str(tmp_path / "b"))
    assert dbt_inprocess.dbt_fingerprint() != first
    monkeypatch.setenv("OGI_PARQUET_DIR", "/elsewhere")  # what the process has set does not matter: the home does
    monkeypatch.setenv("OGI_HOME", str(tmp_path / "a"))
    assert dbt_inprocess.dbt_fingerprint() == first
