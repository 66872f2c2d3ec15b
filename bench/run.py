"""``make bench``: a national year of reports on one machine.

For each scenario (``BENCH_REPORTS``, default 10000; several as ``10000,150000``):

1. a synthetic corpus (``ogi synth``, 2% broken) and 1% more reports for the incremental run,
   kept in ``bench/out/`` between runs (regenerated when the generator changes);
2. parse throughput on a sample of the corpus, per layout family (text, HTML), on every core
   as the pipeline parses, and the regex floor: the same files read, decoded and every
   number pulled out with one regular expression (single core, as is the parser for the ratio);
3. ``ogi run`` from an empty home to certified marts, as a subprocess: wall time, peak memory
   of its whole process tree (sum of RSS, sampled), per-step times from the Dagster event log;
4. ``ogi run`` again with nothing new (``noop_s``: start-up included, no dbt, no gate); then one
   new file into the inbox, three times over (``small_incremental_s``: a file dropped in at night,
   the median of the three runs, all three in ``small_incremental_runs_s``); then the
   incremental run: 1% new files moved into the inbox, ``ogi run`` again;
5. the quality gate: ``gate_s`` and ``sql_s`` from the gate's materialization metadata;
6. the inspector's site: build time, size and pages (``inspector_*``) from its metadata;
7. bodies across years and names: the warehouse's agency ids and regions scored against the
   corpus's true bodies (``agency_link_rate``, ``agency_false_merges``, ``region_*``) and the
   ``agency_links`` step's time.

Then (``BENCH_EXECUTOR=1``, the default) the process pool against Dagster's multiprocess
executor on the same slices (bench/executor_bench.py), Word/PDF parse figures
(``BENCH_OFFICE=1``, the default), and ``ogi run`` on the fault probe's hostile set
(``BENCH_HOSTILE=1``, the default; bench/hostile.py): its peak memory, of the whole process
tree and of the largest process, and what became of each hostile file.  Progress goes to stderr; at the end one JSON line per
scenario goes to stdout (and to ``bench/out/results.jsonl``).

Environment: ``BENCH_REPORTS``, ``BENCH_SEED`` (1), ``BENCH_BREAK_SHARE`` (0.02),
``BENCH_SAMPLE`` (parse sample, 6000 files), ``BENCH_OUT`` (bench/out), ``BENCH_EXECUTOR``,
``BENCH_OFFICE``, ``BENCH_HOSTILE``, ``BENCH_MEMORY_LIMIT_MB`` (heap limit per process of a measured run, 12288;
0 = none), ``OGI_PARSE_WORKERS`` (passed on to ``ogi run``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
OUT = Path(os.environ.get("BENCH_OUT") or REPO / "bench" / "out").resolve()
SEED = int(os.environ.get("BENCH_SEED", "1"))
BREAK_SHARE = float(os.environ.get("BENCH_BREAK_SHARE", "0.02"))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "6000"))
#: One-file runs after the no-op run (``small_incremental_s`` is their median).
ONE_FILE_RUNS = 3
#: The regex floor: every number of a report (what the parser must at least find).
NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: Targets of the issue, on a 2-core machine (checked, not enforced).
TARGETS = {
    "parse_text_reports_per_s": (">=", 1000),
    "parse_html_reports_per_s": (">=", 300),
    "floor_ratio": ("<=", 5),
    "e2e_s": ("<=", 600),
    "peak_rss_mb": ("<=", 4096),
    "incremental_s": ("<=", 60),
    "noop_s": ("<", 10),
    "small_incremental_s": ("<", 20),
    "gate_share_of_e2e": ("<=", 0.10),
    "agency_link_rate": (">=", 0.99),
    "agency_false_merges": ("<=", 0),
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- corpora


def corpus(n: int, start: int = 0, name: str | None = None) -> tuple[Path, float]:
    """The corpus of reports ``start``..``n`` (seed SEED), generated once; (folder, seconds spent now)."""
    from ingestion.synthetic.synth import CORPUS_VERSION

    out = OUT / (name or f"corpus-{n}-s{SEED}")
    stamp = {"version": CORPUS_VERSION, "reports": n, "start": start, "seed": SEED, "break_share": BREAK_SHARE}
    marker = out / "bench.json"
    if marker.exists() and json.loads(marker.read_text()) == stamp:
        return out, 0.0
    shutil.rmtree(out, ignore_errors=True)
    log(f"generating {n - start} reports into {out}")
    started = time.perf_counter()
    subprocess.run([str(BIN / "ogi"), "synth", "--reports", str(n), "--start", str(start), "--out", str(out),
                    "--seed", str(SEED), "--break-share", str(BREAK_SHARE)], check=True, stdout=sys.stderr)
    marker.write_text(json.dumps(stamp))
    return out, time.perf_counter() - started


def manifest(folder: Path) -> list[dict[str, Any]]:
    with (folder / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


# --------------------------------------------------------------------------- parse throughput


def _floor_chunk(args: tuple[list[str], list[str]]) -> int:
    files, encodings = args
    found = 0
    for f, enc in zip(files, encodings):
        text = Path(f).read_bytes().decode(enc)
        found += len([float(x) for x in NUMBER.findall(text)])
    return found


def _parse_chunk(files: list[str]) -> int:
    from ingestion.parse import parse_file
    from orchestration import settings

    limits = {"max_bytes": settings.max_file_bytes(), "timeout_s": settings.FILE_TIMEOUT_S.get()}
    cells = 0
    for f in files:
        cells += sum(1 for _ in parse_file(f, **limits).iter_cells())
    return cells


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _timed_pool(fn, tasks: list, workers: int) -> float:
    from ingestion.workers import pool

    with pool(workers) as ex:
        list(ex.map(fn, tasks[:workers]))  # start the workers and import the parser before timing
        started = time.perf_counter()
        list(ex.map(fn, tasks))
        return time.perf_counter() - started


def throughput(folder: Path, entries: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    """Parse rates per family on every core, and the ratio to the regex floor on one core."""
    families = {
        "text": [e for e in entries if e["format"] == "text"][: SAMPLE * 2 // 3],
        "html": [e for e in entries if e["format"] == "html"][: SAMPLE // 3],
    }
    out: dict[str, Any] = {}
    total_files, total_parallel, total_single, total_floor = 0, 0.0, 0.0, 0.0
    for family, chosen in families.items():
        if not chosen:
            continue
        files = [str(folder / e["file"]) for e in chosen]
        encodings = [e["encoding"] for e in chosen]
        for f in files:  # page cache warm for every measurement
            Path(f).read_bytes()
        started = time.perf_counter()
        _floor_chunk((files, encodings))
        floor_s = time.perf_counter() - started
        started = time.perf_counter()
        _parse_chunk(files)
        single_s = time.perf_counter() - started
        parallel_s = _timed_pool(_parse_chunk, _chunks(files, 50), workers)
        out[f"parse_{family}_reports_per_s"] = round(len(files) / parallel_s, 1)
        out[f"parse_{family}_1core_reports_per_s"] = round(len(files) / single_s, 1)
        out[f"floor_{family}_1core_reports_per_s"] = round(len(files) / floor_s, 1)
        out[f"floor_ratio_{family}"] = round(single_s / floor_s, 2)
        out[f"parse_{family}_sample"] = len(files)
        total_files += len(files)
        total_parallel += parallel_s
        total_single += single_s
        total_floor += floor_s
        log(f"{family}: {len(files)} files, {len(files) / parallel_s:.0f}/s on {workers} cores, "
            f"{len(files) / single_s:.0f}/s on one, floor {len(files) / floor_s:.0f}/s")
    out["parse_reports_per_s"] = round(total_files / total_parallel, 1)
    out["parse_1core_reports_per_s"] = round(total_files / total_single, 1)
    out["floor_ratio"] = round(total_single / total_floor, 2)
    return out


def office_throughput(workers: int) -> dict[str, Any]:
    """Word and PDF files (kept out of the main corpus: a PDF takes ~0.3 s): reports/s on every core."""
    from ingestion.synthetic.synth import write_corpus

    folder = OUT / f"office-s{SEED}"
    if not (folder / "manifest.jsonl").exists():
        write_corpus(folder, 60, seed=SEED, layouts=("docx", "docx", "pdf"), workers=workers)
    out: dict[str, Any] = {}
    entries = manifest(folder)
    for fmt in ("docx", "pdf"):
        files = [str(folder / e["file"]) for e in entries if e["format"] == fmt]
        seconds = _timed_pool(_parse_chunk, _chunks(files, 2), workers)
        out[f"parse_{fmt}_reports_per_s"] = round(len(files) / seconds, 1)
        log(f"{fmt}: {len(files)} files, {len(files) / seconds:.1f}/s on {workers} cores")
    return out


# --------------------------------------------------------------------------- ogi run


def _tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


#: Each process of a measured run may hold this much heap (RLIMIT_DATA), so that a run that
#: outgrows the machine fails with MemoryError instead of calling the kernel's OOM killer
#: on whatever else runs there. 0 = no limit.
MEMORY_LIMIT_MB = int(os.environ.get("BENCH_MEMORY_LIMIT_MB", "12288"))


def _limit_memory() -> None:
    if MEMORY_LIMIT_MB > 0:
        import resource

        limit = MEMORY_LIMIT_MB * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


@dataclass
class Run:
    wall_s: float
    returncode: int
    peak_rss_mb: float  # peak of the sum over the process tree
    peak_single_mb: float  # the largest single process
    samples: list[tuple[float, float]] = field(default_factory=list)


def ogi_run(inbox: Path, home: Path, log_path: Path, without_gate: bool = False) -> Run:
    """``ogi run`` as a subprocess, its process tree's memory sampled every 0.2 s.

    ``without_gate``: bench/run_without_gate.py instead (the job minus the quality gate).
    """
    env = dict(os.environ, COLUMNS="120")
    command = [str(BIN / "ogi"), "run", "--inbox", str(inbox), "--home", str(home)]
    if without_gate:
        command = [sys.executable, str(REPO / "bench" / "run_without_gate.py"), str(inbox), str(home)]
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_limit_memory)
        peak = single = 0.0
        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak, single
            while not stop.is_set():
                sizes = [_rss_mb(pid) for pid in _tree(proc.pid)]
                total = sum(sizes)
                peak, single = max(peak, total), max(single, max(sizes, default=0.0))
                samples.append((round(time.perf_counter() - started, 1), round(total)))
                stop.wait(0.2)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        code = proc.wait()
        stop.set()
        watcher.join()
    return Run(time.perf_counter() - started, code, peak, single, samples)


def run_details(home: Path) -> dict[str, Any]:
    """The latest run of ``home``: step times, and the metadata the bench reports."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        [record] = instance.get_run_records(limit=1)
        run_id = record.dagster_run.run_id
        steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in instance.get_run_step_stats(run_id)
                 if s.end_time and s.start_time}
        meta: dict[str, dict[str, Any]] = {}
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = entry.dagster_event.step_materialization_data.materialization
            meta[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        return {"run_id": run_id, "status": record.dagster_run.status.value, "steps": steps, "meta": meta}


def certified(home: Path) -> dict[str, int]:
    import duckdb

    # certification is per table: a report whose table 4 breaks keeps its table 3 in fct_applications
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        (reports, cert, cert_applications) = con.execute(
            "select count(*), count(*) filter (where certified), count(*) filter (where certified_applications) "
            "from marts.dim_report").fetchone()
        (facts,) = con.execute("select count(distinct report_id) from marts.fct_applications").fetchone()
    return {"reports": reports, "certified": cert, "certified_applications": cert_applications, "in_facts": facts}


def agency_scores(home: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """How well the warehouse follows bodies, scored against the corpus's true bodies (manifest).

    ``agency_link_rate``: of the reports of bodies with several reports, the share whose agency_id
    is their body's most frequent one; ``agency_false_merges``: agency_ids holding reports of two
    or more true bodies (must be 0); ``region_correct_share`` / ``region_wrong``: reports whose
    region is their body's place / is another place (unresolved ones are neither).
    """
    from collections import Counter, defaultdict

    import duckdb

    truth = {e["name"]: (e["body"], e["division"]) for e in entries}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("""
            select r.source_file, l.agency_id, l.link_method, l.region_code
            from marts.link_report_agency l join marts.dim_report r using (report_id)""").fetchall()
    by_body: dict[int, list[str]] = defaultdict(list)
    bodies_of: dict[str, set[int]] = defaultdict(set)
    methods: Counter = Counter()
    right = wrong = 0
    for source, agency_id, method, region in rows:
        if source not in truth:
            continue
        body, division = truth[source]
        by_body[body].append(agency_id)
        bodies_of[agency_id].add(body)
        methods[method] += 1
        if region is not None:
            right += region == division
            wrong += region != division
    multi = [ids for ids in by_body.values() if len(ids) > 1]
    linked = sum(Counter(ids).most_common(1)[0][1] for ids in multi)
    total = sum(len(ids) for ids in multi)
    return {
        "agency_link_rate": round(linked / total, 5) if total else None,
        "agency_false_merges": sum(1 for b in bodies_of.values() if len(b) > 1),
        "agency_bodies": len(by_body),
        "agency_ids": len(bodies_of),
        "agency_link_methods": dict(methods),
        "region_correct_share": round(right / len(rows), 5) if rows else None,
        "region_wrong": wrong,
    }


def gate_fallback(home: Path) -> dict[str, float]:
    """gate_s and sql_s measured here, when the run's metadata does not carry them."""
    import duckdb

    from expectations.run import run_gate

    with duckdb.connect(str(home / "build" / "warehouse.duckdb"), read_only=True) as con:
        started = time.perf_counter()
        terms = con.execute("select * from intermediate.int_identity_terms").df()
        cells = con.execute("select * from staging.stg_cells").df()
        run_gate(terms, cells)
        gate_s = time.perf_counter() - started
    started = time.perf_counter()
    mem = duckdb.connect()
    mem.register("terms", terms)
    mem.execute("select count(*) from terms where abs(lhs - rhs) > 1e-9").fetchall()
    return {"gate_s": gate_s, "sql_s": time.perf_counter() - started}


# --------------------------------------------------------------------------- a scenario


def move_in(extra: Path, inbox: Path) -> list[tuple[Path, Path]]:
    """Move the extra reports into the inbox (fast renames); the moves, to undo them."""
    moves = []
    for src in sorted((extra / "reports").rglob("*")):
        if src.is_file():
            dst = inbox / src.relative_to(extra / "reports")
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            moves.append((src, dst))
    return moves


def move_back(moves: list[tuple[Path, Path]]) -> None:
    for src, dst in reversed(moves):
        src.parent.mkdir(parents=True, exist_ok=True)
        os.replace(dst, src)
        if dst.parent.exists() and not any(dst.parent.iterdir()):
            dst.parent.rmdir()


def scenario(n: int, workers: int) -> dict[str, Any]:
    log(f"=== scenario: {n} reports, {workers} cores")
    folder, synth_s = corpus(n)
    extra_n = max(1, n // 100)
    extra, extra_s = corpus(n + extra_n, start=n, name=f"extra-{n}-s{SEED}")
    entries = manifest(folder)
    result: dict[str, Any] = {"scenario": f"{n} reports", "reports": n, "cores": workers}
    result.update(throughput(folder, entries, workers))

    home = OUT / f"home-{n}"
    shutil.rmtree(home, ignore_errors=True)
    log(f"ogi run: {n} reports from an empty home ({home})")
    first = ogi_run(folder / "reports", home, OUT / f"ogi-run-{n}.log")
    (OUT / f"memory-{n}.json").write_text(json.dumps({"first": first.samples}))
    if first.returncode != 0:
        failed(result, "ogi run", first, home, OUT / f"ogi-run-{n}.log")
        return without_gate(result, n, folder, extra)
    details = run_details(home)
    log(f"e2e {first.wall_s:.1f} s, peak {first.peak_rss_mb:.0f} MB; steps {details['steps']}")
    counts = certified(home)
    # certified = printed without a broken identity and every cell read: a crawler dump's table 2
    # with more digits than cells is left unread on purpose (its golden lists the unread cells)
    unread = {r["source"] for r in map(json.loads, (folder / "golden.jsonl").open(encoding="utf-8")) if r.get("unread")}
    expected_certified = sum(1 for e in entries if not e["broken"] and e["name"] not in unread)
    agencies = agency_scores(home, entries)
    log(f"agencies: link rate {agencies['agency_link_rate']}, false merges {agencies['agency_false_merges']}, "
        f"regions right {agencies['region_correct_share']}, wrong {agencies['region_wrong']}")

    log("ogi run again, nothing new")
    noop = ogi_run(folder / "reports", home, OUT / f"ogi-run-{n}-noop.log")
    # one new file at a time, ONE_FILE_RUNS times (each a report of its own): the figure is their median,
    # since one run of ~20 s on a shared machine moves by a few seconds with the load
    one_move: list[tuple[Path, Path]] = []
    smalls: list[tuple[Run, dict[str, Any]]] = []
    try:
        for k in range(ONE_FILE_RUNS):
            start = n + extra_n + k
            one, _ = corpus(start + 1, start=start, name=f"one-{n}-{k}-s{SEED}")
            one_move += move_in(one, folder / "reports")
            log(f"ogi run again with 1 new file ({k + 1} of {ONE_FILE_RUNS})")
            run = ogi_run(folder / "reports", home, OUT / f"ogi-run-{n}-one-{k}.log")
            smalls.append((run, run_details(home) if run.returncode == 0 else {}))
            if run.returncode != 0:
                break
        small, small_details = sorted(smalls, key=lambda rd: rd[0].wall_s)[len(smalls) // 2]
        if any(run.returncode != 0 for run, _ in smalls):
            small, small_details = next((run, d) for run, d in smalls if run.returncode != 0)
        log(f"nothing new: {noop.wall_s:.1f} s; 1 new file: {', '.join(f'{r.wall_s:.1f}' for r, _ in smalls)} s "
            f"(median {small.wall_s:.1f} s, steps {small_details.get('steps')})")
        moves = move_in(extra, folder / "reports")
        try:
            log(f"ogi run again with {len(moves)} new files")
            second = ogi_run(folder / "reports", home, OUT / f"ogi-run-{n}-incremental.log")
        finally:
            move_back(moves)
    finally:
        move_back(one_move)
    if noop.returncode != 0 or small.returncode != 0:
        result["e2e_s"] = round(first.wall_s, 1)
        return failed(result, "no-op or one-file ogi run", noop if noop.returncode else small, home,
                      OUT / f"ogi-run-{n}-{'noop' if noop.returncode else f'one-{len(smalls) - 1}'}.log")
    if second.returncode != 0:
        result["e2e_s"] = round(first.wall_s, 1)
        result["peak_rss_mb"] = round(first.peak_rss_mb)
        return failed(result, "incremental ogi run", second, home, OUT / f"ogi-run-{n}-incremental.log")
    again = run_details(home)
    log(f"incremental {second.wall_s:.1f} s, peak {second.peak_rss_mb:.0f} MB; steps {again['steps']}")

    gate_meta = details["meta"].get("quality/quality_issues", {})
    gate = {"gate_s": gate_meta.get("gate_s"), "sql_s": gate_meta.get("sql_s")}
    gate_source = "run metadata"
    if gate["gate_s"] is None or not gate["sql_s"]:
        gate, gate_source = gate_fallback(home), "measured by the bench on the run's warehouse"
    parsed = details["meta"].get("raw/reports", {})
    site = details["meta"].get("inspector", {})
    result.update({
        "e2e_s": round(first.wall_s, 1),
        "peak_rss_mb": round(first.peak_rss_mb),
        "peak_rss_single_process_mb": round(first.peak_single_mb),
        "noop_s": round(noop.wall_s, 1),
        "small_incremental_s": round(small.wall_s, 1),
        "small_incremental_runs_s": [round(r.wall_s, 1) for r, _ in smalls],
        "small_incremental_steps_s": small_details.get("steps"),
        "noop_ran_nothing": "Nothing new" in (OUT / f"ogi-run-{n}-noop.log").read_text(encoding="utf-8"),
        "incremental_s": round(second.wall_s, 1),
        "incremental_new_reports": len(moves),
        "incremental_peak_rss_mb": round(second.peak_rss_mb),
        "gate_s": round(gate["gate_s"], 2),
        "sql_s": round(gate["sql_s"], 4),
        "gate_vs_sql_ratio": round(gate["gate_s"] / gate["sql_s"], 1),
        "gate_share_of_e2e": round(gate["gate_s"] / first.wall_s, 3),
        "gate_source": gate_source,
        "gate_parts": gate_meta.get("gate_parts"),
        "incremental_gate_s": again["meta"].get("quality/quality_issues", {}).get("gate_s"),
        "incremental_gate_judged_reports": again["meta"].get("quality/quality_issues", {}).get("judged_reports"),
        "pipeline_parse_reports_per_s": parsed.get("reports_per_second"),
        "pipeline_parse_workers": parsed.get("parse_workers"),
        "steps_s": details["steps"],
        "incremental_steps_s": again["steps"],
        "certified_reports": counts["certified"],
        "expected_certified": expected_certified,
        "unread_reports": len(unread),
        "marts_ok": (counts["reports"] == n and counts["certified"] == expected_certified
                     and counts["in_facts"] == counts["certified_applications"]),
        "synth_s": round(synth_s + extra_s, 1) if synth_s else None,
        # bodies followed across years and names (agency_links step, dim_agency), scored on the manifest
        **agencies,
        "agency_links_s": next((t for step, t in details["steps"].items() if "agency_links" in step), None),
        "incremental_agency_links_s": next((t for step, t in again["steps"].items() if "agency_links" in step),
                                           None),
        "agency_links_names": details["meta"].get("raw/agency_links", {}).get("dagster/row_count"),
        # the inspector's site (HOME/inspector/), written by the last step of each run
        "inspector_s": site.get("build_s"),
        "inspector_mb": round(site["size_bytes"] / 1e6, 2) if site.get("size_bytes") is not None else None,
        "inspector_pages": site.get("pages"),
        "inspector_report_pages": site.get("report_pages"),
        "inspector_agency_pages": site.get("agency_pages"),
        "inspector_step_s": site.get("step_s"),
        "incremental_inspector_s": again["meta"].get("inspector", {}).get("build_s"),
    })
    compare = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}
    result["targets_missed"] = [k for k, (op, limit) in TARGETS.items()
                                if result.get(k) is not None and not compare[op](result[k], limit)]
    (OUT / f"memory-{n}.json").write_text(json.dumps({"first": first.samples, "incremental": second.samples}))
    shutil.rmtree(home / "raw", ignore_errors=True)  # the raw copies double the corpus on disk
    return result


def failed(result: dict[str, Any], what: str, run: Run, home: Path, log_path: Path) -> dict[str, Any]:
    """The scenario's line when a run failed: what is known, and why."""
    killed = run.returncode == -9
    reason = "killed (SIGKILL: the kernel's out-of-memory killer?)" if killed else f"exit status {run.returncode}"
    result.update({
        "error": f"{what} failed after {run.wall_s:.0f} s: {reason}; see {log_path}",
        "failed_run_s": round(run.wall_s, 1),
        "failed_run_peak_rss_mb": round(run.peak_rss_mb),
        "failed_run_peak_single_process_mb": round(run.peak_single_mb),
    })
    try:
        result["failed_run_steps_s"] = run_details(home)["steps"]
    except Exception as exc:  # noqa: BLE001 (the event log may be incomplete)
        result["failed_run_steps_s"] = f"unavailable: {exc}"
    log(result["error"])
    return result


def without_gate(result: dict[str, Any], n: int, folder: Path, extra: Path) -> dict[str, Any]:
    """When ``ogi run`` fails: the same runs without the quality gate step (bench/run_without_gate.py),
    so that everything else is measured, and the gate's identity part alone (bench/gate_bench.py)."""
    home = OUT / f"home-{n}-without-gate"
    shutil.rmtree(home, ignore_errors=True)
    log(f"measuring the job without the quality gate ({home})")
    first = ogi_run(folder / "reports", home, OUT / f"run-without-gate-{n}.log", without_gate=True)
    result["e2e_without_gate_s"] = round(first.wall_s, 1)
    result["peak_rss_without_gate_mb"] = round(first.peak_rss_mb)
    if first.returncode != 0:
        result["error_without_gate"] = f"exit status {first.returncode}; see {OUT / f'run-without-gate-{n}.log'}"
        return result
    details = run_details(home)
    result["steps_without_gate_s"] = details["steps"]
    result["pipeline_parse_reports_per_s"] = details["meta"].get("raw/reports", {}).get("reports_per_second")
    moves = move_in(extra, folder / "reports")
    try:
        second = ogi_run(folder / "reports", home, OUT / f"run-without-gate-{n}-incremental.log", without_gate=True)
    finally:
        move_back(moves)
    result["incremental_without_gate_s"] = round(second.wall_s, 1)
    (OUT / f"memory-{n}-without-gate.json").write_text(json.dumps({"first": first.samples,
                                                                    "incremental": second.samples}))
    if second.returncode == 0:
        result["incremental_steps_without_gate_s"] = run_details(home)["steps"]
    log(f"without the gate: e2e {first.wall_s:.1f} s (peak {first.peak_rss_mb:.0f} MB), "
        f"incremental {second.wall_s:.1f} s")
    log("the gate's identity part alone: bench/gate_bench.py")
    bench = subprocess.run([sys.executable, str(REPO / "bench" / "gate_bench.py"), "--reports", str(n),
                            "--repeat", "1"], capture_output=True, text=True)
    if bench.stdout.strip():
        figures = json.loads(bench.stdout.strip().splitlines()[-1])
        result.update({"gate_terms_only_s": figures.get("gate_s"), "sql_s": figures.get("sql_s"),
                       "gate_vs_sql_ratio": figures.get("gate_vs_sql_ratio"),
                       "gate_source": "bench/gate_bench.py (identity terms only, no cells: a lower bound)"})
    shutil.rmtree(home / "raw", ignore_errors=True)
    return result


def hostile_set() -> dict[str, Any]:
    """``ogi run`` on the hostile set (bench/hostile.py) from an empty home: peak memory, and each file's fate."""
    import duckdb

    from bench import hostile

    folder = OUT / "hostile"
    log(f"building the hostile set in {folder}")
    inbox = hostile.build(folder)
    home = folder / "home"
    shutil.rmtree(home, ignore_errors=True)
    log("ogi run on the hostile set")
    run = ogi_run(inbox, home, OUT / "ogi-run-hostile.log")
    result: dict[str, Any] = {"scenario": "hostile set", "e2e_s": round(run.wall_s, 1),
                              "peak_rss_mb": round(run.peak_rss_mb),
                              "peak_rss_single_process_mb": round(run.peak_single_mb),
                              "parse_memory_ceiling_mb": float(os.environ.get("OGI_PARSE_MEMORY_MB") or 1024)}
    if run.returncode != 0:
        return failed(result, "ogi run on the hostile set", run, home, OUT / "ogi-run-hostile.log")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        result["errors"] = dict(con.execute("select source_file, error from marts.parse_errors order by 1").fetchall())
        result["reports"] = con.execute("select count(*) from marts.dim_report").fetchone()[0]
    result["skipped"] = run_details(home)["meta"].get("raw_reports", {}).get("skipped_files")
    shutil.rmtree(home / "raw", ignore_errors=True)
    return result


def main() -> int:
    from ingestion.workers import cpu_count

    OUT.mkdir(parents=True, exist_ok=True)
    workers = cpu_count()
    sizes = [int(x) for x in os.environ.get("BENCH_REPORTS", "10000").split(",") if x.strip()]
    lines = [scenario(n, workers) for n in sizes]
    if os.environ.get("BENCH_OFFICE", "1") == "1":
        lines.append({"scenario": "office formats", **office_throughput(workers)})
    if os.environ.get("BENCH_HOSTILE", "1") == "1":
        lines.append(hostile_set())
    if os.environ.get("BENCH_EXECUTOR", "1") == "1":
        from bench import executor_bench

        lines.append({"scenario": "process pool vs Dagster multiprocess executor",
                      **executor_bench.compare(OUT / f"corpus-{sizes[0]}-s{SEED}", OUT, workers)})
    with open(OUT / "results.jsonl", "a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **line}, ensure_ascii=False) + "\n")
    for line in lines:
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
