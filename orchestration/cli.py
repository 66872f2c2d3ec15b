"""The ``ogi`` command line: parse reports, run the warehouse, write the inspector's site, start the UI.

Subcommands import what they need lazily so that ``ogi parse`` starts fast and
never loads Dagster or dbt.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def _root() -> None:
    """ogi-warehouse: government information disclosure annual reports as data."""


@app.command()
def parse(
    paths: list[Path] = typer.Argument(..., help="Report files, or folders to read every file below."),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON."),
    provenance: bool = typer.Option(False, "--provenance", help="Add each cell's raw token and position."),
) -> None:
    """Parse reports and print one JSON object per file (JSON Lines).

    Each record's "source" is the file's path as given (or as found below a folder that was
    given). A file that cannot be parsed prints {"source": ..., "error": ..., "error_kind": ...};
    the other files go on and the exit status is 1. A folder with no report files in it is an
    error (exit status 2).
    """
    from ingestion.inventory import is_candidate
    from ingestion.parse import iter_files, parse_file
    from ingestion.record import ParseError
    from orchestration import settings

    try:
        limits = {"max_bytes": settings.max_file_bytes(), "timeout_s": settings.FILE_TIMEOUT_S.get()}
    except settings.SettingError as exc:
        raise typer.BadParameter(str(exc)) from None
    files: list[Path] = []
    for given in paths:
        if given.is_dir():
            found = [f for f in iter_files([given]) if is_candidate(f.name)]
            if not found:
                typer.echo(f"ogi parse: {given} holds no report files", err=True)
                raise typer.Exit(2)
            files += found
        else:
            files.append(given)  # a file that is missing or unreadable prints its error record
    failed = False
    for path in files:
        try:
            obj = parse_file(path, **limits).to_json(provenance=provenance)
            obj["source"] = str(path)  # the path as given (the record's own source is the file name)
        except ParseError as exc:
            failed = True
            obj = {"source": str(path), "error": str(exc), "error_kind": exc.kind.value}
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None) + "\n")
    sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


@app.command()
def synth(
    reports: int = typer.Option(..., "--reports", "-n", min=1, help="How many report files to write."),
    out: Path = typer.Option(..., "--out", "-o", file_okay=False, help="Corpus folder (reports/, manifest, goldens)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same corpus."),
    break_share: float = typer.Option(0.0, "--break-share", min=0.0, max=1.0,
                                      help="Share of reports printed with numbers that break one identity."),
    layouts: Optional[str] = typer.Option(None, "--layouts", help="Comma-separated layouts (default: every text layout)."),
    docx_share: float = typer.Option(0.0, "--docx-share", min=0.0, max=1.0, help="Share written as Word files."),
    pdf_share: float = typer.Option(0.0, "--pdf-share", min=0.0, max=1.0,
                                    help="Share written as PDF files (slow to parse: ~0.3 s each)."),
    start: int = typer.Option(0, "--start", min=0, help="Write only reports START.. of the N (grow a corpus: "
                              "same seed, larger N, START = the old N)."),
    workers: int = typer.Option(0, "--workers", min=0, help="Processes rendering (0: every core)."),
) -> None:
    """Write a synthetic corpus: realistic reports in every layout, with a golden record per file.

    OUT/reports/ is the inbox (`ogi run --inbox OUT/reports`); OUT/manifest.jsonl names each
    file's layout, encoding and the identity it breaks (if any); OUT/golden.jsonl holds, line
    for line, the record `ogi parse` prints for that file.
    """
    import time

    from ingestion.synthetic import MissingDependency
    from ingestion.synthetic.synth import default_workers, write_corpus

    if start >= reports:
        raise typer.BadParameter(f"--start {start} must be below --reports {reports}")
    started = time.monotonic()
    chosen = tuple(x.strip() for x in layouts.split(",") if x.strip()) if layouts else None
    try:
        manifest = write_corpus(out, reports, seed=seed, break_share=break_share, layouts=chosen, start=start,
                                docx_share=docx_share, pdf_share=pdf_share, workers=workers or default_workers())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except MissingDependency as exc:
        typer.echo(f"ogi synth: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{reports - start} reports written in {time.monotonic() - started:.1f} s: inbox {out / 'reports'}, "
               f"manifest {manifest}, goldens {out / 'golden.jsonl'}")


HOME_HELP = "Warehouse home: raw copies, Parquet, the DuckDB warehouse, Dagster's runs. [default: ./ogi_home]"
INBOX_HELP = "Folder of reports to ingest. [default: the bundled sample reports]"


@app.command()
def run(
    inbox: Optional[Path] = typer.Option(None, "--inbox", help=INBOX_HELP, file_okay=False),
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show dbt's output as well as logging it."),
    force: bool = typer.Option(False, "--force", help="Run the job even when nothing is new."),
) -> None:
    """Build the warehouse now: ingest the inbox, parse, dbt, quality gate, publish.

    Runs the same Dagster job as the nightly schedule, in this process, recorded in
    HOME/dagster (open `ogi ui` afterwards to browse the run). When nothing is new since
    the last successful run (no new or changed file, same code, parser and settings), it
    says so and stops: no dbt, no gate, nothing published. One run at a time per home: a
    run of the UI working on the home is waited for. The run's log is
    HOME/logs/runs/<run id>.log.
    """
    import gc
    import time

    # a run allocates millions of short-lived objects (imports, dbt's nodes, Dagster's events): the
    # collector's default pace (a young collection every 700) spent ~1 s of a one-file run
    gc.set_threshold(50_000, 20, 20)

    from rich.console import Console

    from orchestration import preflight, runstate
    from orchestration.lock import home_lock

    console = Console(file=sys.stdout)
    started = time.monotonic()
    try:
        p = preflight.locate(home=home, inbox=inbox)
    except preflight.PreflightError as exc:
        console.print(f"[red bold]ogi run:[/] {exc}; nothing built or published")
        raise typer.Exit(2) from None

    def waiting(who: str) -> None:
        console.print(f"[yellow]Waiting[/] for {who} to finish with {p.home} …")

    with home_lock(p.home, "ogi run", on_wait=waiting):
        verdict = runstate.check(p)
        if verdict.nothing_new and not force:
            console.print(f"[green bold]Nothing new[/]{verdict.reason.removeprefix('nothing new')}.")
            console.print(f"No dbt, no quality gate, nothing published ({time.monotonic() - started:.1f} s): "
                          f"the warehouse is as it was, [cyan]{p.warehouse}[/]", soft_wrap=True)
            console.print("  `ogi run --force` runs the job all the same.")
            raise typer.Exit(0)
        if verdict.record is None and not p.inventory.exists() and not runstate.new_files(p)[1]:
            console.print(f"[red bold]ogi run:[/] the inbox {p.inbox} holds no report files and {p.home} has "
                          "none yet: nothing to build")
            raise typer.Exit(2)
        _run_job(console, p, verbose, started, "asked for (--force)" if verdict.nothing_new else verdict.reason)


class _LogStream:
    """A file-like object over a run's log (stray output of libraries during a run)."""

    def __init__(self, log) -> None:
        self._log = log

    def write(self, text: str) -> int:
        self._log.write_raw(text)
        return len(text)

    def flush(self) -> None:
        self._log.flush()


def _run_job(console, p, verbose: bool, started: float, why: str) -> None:
    """Run warehouse_job in this process with progress, its log and a summary; exits."""
    import contextlib
    import io
    import time
    import uuid

    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from orchestration import dbt_inprocess, diskfull, runlog, runner

    with console.status("Preparing (dbt manifest, Dagster instance)…"):
        runner.prepare()
        import dagster as dg

        definitions = runner.load_definitions()
    # What is loaded by now (Dagster, dbt, the code location) lives as long as this process: out of
    # the collector's sight, a full collection in the run scans only the run's own objects
    import gc

    gc.freeze()
    steps = runner.steps_of(definitions)
    console.print(f"[bold]ogi run[/] inbox [cyan]{p.inbox}[/] → home [cyan]{p.home}[/] [dim]({why})[/]")

    run_id = str(uuid.uuid4())
    log = runlog.get(p.home, run_id)
    log.write(f"ogi run: inbox {p.inbox}, home {p.home} ({why})")
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(), console=console, redirect_stdout=False, redirect_stderr=False,
    )
    task = progress.add_task("starting", total=len(steps))
    step_started: dict[str, float] = {}

    def on_event(entry) -> None:
        diskfull.note(entry)  # the step a crash on a full disk happened in
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            step_started[event.step_key] = time.monotonic()
            progress.update(task, description=f"[bold]{event.step_key}[/]")
        elif kind == "STEP_SUCCESS":
            took = time.monotonic() - step_started.get(event.step_key, time.monotonic())
            progress.console.print(f"  [green]✓[/] {event.step_key} [dim]{took:.1f} s[/]")
            progress.advance(task)
        elif kind == "STEP_FAILURE":
            progress.console.print(f"  [red]✗ {event.step_key}[/]")
            progress.advance(task)
        elif kind == "STEP_SKIPPED":
            progress.console.print(f"  [yellow]- {event.step_key} skipped[/]")
            progress.advance(task)

    dbt_inprocess.ECHO = verbose
    with dg.DagsterInstance.from_config(str(p.dagster_home)) as instance:
        out = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(_LogStream(log))
        with progress, out:
            outcome = runner.run_warehouse(instance, definitions, on_event=on_event, run_id=run_id)
    log_path = runlog.log_path(p.home, run_id)
    seconds = time.monotonic() - started
    _summary(console, outcome, p, log_path, seconds)
    text = io.StringIO()
    _summary(Console(file=text, width=100, no_color=True, highlight=False), outcome, p, log_path, seconds)
    log.write("summary:\n" + text.getvalue())
    runlog.close(p.home, run_id)
    global _fast_exit
    _fast_exit = True  # everything is written and closed
    raise typer.Exit(0 if outcome.success else 1)


def _default_home() -> Path:
    from orchestration.paths import DEFAULT_HOME

    return DEFAULT_HOME.expanduser().resolve()


def _summary(console, outcome, p, log_path: Path, seconds: float) -> None:
    """Files seen, parsed and failed (with reasons), rows per table, where the warehouse is."""
    from rich.markup import escape
    from rich.table import Table

    inv = outcome.metadata("raw_reports")
    errors = outcome.metadata("raw/parse_errors")
    home_flag = "" if p.home == _default_home() else f" --home {p.home}"
    console.print()
    if inv or errors:  # (a run that failed before taking the inbox in has nothing to count)
        console.print(
            f"Files seen: [bold]{inv.get('files_seen', '?')}[/] ({inv.get('new_files', '?')} new) · "
            f"parsed: [bold]{errors.get('parsed', '?')}[/] · failed: [bold]{errors.get('failed', '?')}[/] "
            f"(parser {errors.get('parser_version', '?')}; {errors.get('dagster/row_count', '?')} unparseable "
            "files in all)"
        )
    failed_files = errors.get("failed_files") or []
    for item in failed_files:
        console.print(f"  [red]✗[/] {escape(item['source_file'])}: {escape(item['error'])}")
    if errors.get("failed", 0) > len(failed_files):
        console.print(f"  … and {errors['failed'] - len(failed_files)} more: see marts.parse_errors in the warehouse")
    _repairs_and_skips(console, outcome)
    counts = outcome.metadata("published_warehouse").get("table_rows") or {}
    counts = {name: rows for name, rows in counts.items() if name.startswith("marts.")}
    if counts:
        table = Table(title="Published warehouse (marts)", title_justify="left")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in counts.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
    gate = outcome.metadata("quality/quality_issues")
    quality_failed = [c for c in outcome.failed_checks if c.startswith("quality/")]
    tests = outcome.dbt_tests
    if tests:
        kept = f", {tests['kept']} kept from the last full build (they read no data)" if tests.get("kept") else ""
        warned = f", {tests['warned']} warned" if tests.get("warned") else ""
        console.print(f"dbt tests: {tests.get('passed', 0)} passed, {tests.get('failed', 0)} failed{warned}{kept}")
    if gate:
        verdict = "[green]passed[/]" if gate.get("gate_passed") else "[red bold]FAILED[/]"
        rules = ", ".join(c.split(":", 1)[1] for c in quality_failed if not c.endswith(":quality_gate"))
        where = ("marts.quality_issues, or `ogi issues`" if gate.get("gate_passed")
                 else f"`ogi issues{home_flag}` ({p.parquet_dir / 'quality_issues.parquet'})")
        console.print(
            f"Quality gate {verdict}: {gate.get('dagster/row_count', 0)} issues ({gate.get('new_issues', 0)} new), "
            f"{gate.get('quarantined_reports', 0)} reports quarantined{' by ' + rules if rules else ''} "
            f"· see {where}", soft_wrap=True,
        )
        if gate.get("quarantined_reports"):
            from expectations.issues import describe_quarantines

            console.print(f"  {describe_quarantines(gate.get('quarantined_by_cause') or {})}")
        for reason in gate.get("gate_failures") or []:
            console.print(f"  [red]✗[/] {escape(str(reason))}")
        if gate.get("data_docs"):
            console.print(f"  Data Docs: [cyan]{gate['data_docs']}[/]")
        if gate.get("alert_level") not in (None, "none"):
            webhook = str(gate.get("alert_webhook") or "")
            delivery = {"delivered": " and posted to OGI_ALERT_WEBHOOK", "skipped": "", "none": ""}.get(
                webhook, f"; [red]the webhook did not receive it[/] ({escape(webhook.removeprefix('failed: '))})")
            console.print(f"  alert ({gate['alert_level']}) written to [cyan]{p.home / 'alerts.jsonl'}[/]{delivery}")
    if outcome.success:
        console.print(f"[green bold]Warehouse ready[/] in {seconds:.0f} s: [cyan]{p.warehouse}[/]")
        console.print(f"  e.g. ogi sql{home_flag} \"select * from agg_agency_year limit 10\"  ·  "
                      f"ogi export{home_flag} --to DIR --format xlsx", soft_wrap=True)
        site = outcome.metadata("inspector").get("path")
        if site:
            console.print(f"  inspector (static pages, open from the file system): [cyan]{site}[/]")
        console.print(f"  log: {log_path}", soft_wrap=True)
    elif "published_warehouse" in outcome.materializations:
        for step, message in outcome.failures:
            console.print(f"[red bold]{step} failed:[/] {escape(message)}")
        console.print(f"[yellow bold]Warehouse published[/] ({p.warehouse}), but a later step failed after {seconds:.0f} s")
        console.print(f"  log: {log_path}  ·  run id {outcome.run_id} (see `ogi ui`)", soft_wrap=True)
    else:
        from orchestration import diskfull

        full = diskfull.from_failures(outcome.failures, p.home)
        if full:  # one line, not the errors of each layer
            console.print(f"[red bold]{escape(full)}[/]", soft_wrap=True)
        for step, message in [] if full else outcome.failures:
            console.print(f"[red bold]{step} failed:[/] {escape(message)}")
        state = (f"the published warehouse is left as it was: {p.warehouse}" if p.warehouse.exists()
                 else "nothing has been published yet")
        console.print(f"[red bold]Run failed[/] after {seconds:.0f} s; {state}", soft_wrap=True)
        console.print(f"  log: {log_path}  ·  run id {outcome.run_id} (see `ogi ui`)", soft_wrap=True)



def _repairs_and_skips(console, outcome) -> None:
    """What the run found wrong in its home and did about it; what the inbox holds that was not read."""
    from rich.markup import escape

    repairs = [*(outcome.metadata("raw_reports").get("repairs") or []),
               *(outcome.metadata("raw/reports").get("repairs") or [])]
    for line in repairs:
        console.print(f"  [yellow]repaired[/] {escape(str(line))}", soft_wrap=True)
    inv = outcome.metadata("raw_reports")
    skipped = inv.get("skipped_files") or []
    if skipped:
        console.print(f"Skipped in the inbox: [bold]{inv.get('skipped', len(skipped))}[/] (not read)")
    for item in skipped:
        console.print(f"  [yellow]-[/] {escape(item['path'])}: {escape(item['reason'])}", soft_wrap=True)
    if inv.get("skipped", 0) > len(skipped):
        console.print(f"  … and {inv['skipped'] - len(skipped)} more (see the raw_reports step's log)")


@app.command()
def repair(
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
) -> None:
    """Check the home and heal it now (each run does this first): remove what an interrupted
    run left, set damaged files aside in HOME/damaged/, and parse again from HOME/raw every
    report whose stored parse was lost. Run `ogi run` afterwards to rebuild the warehouse.
    """
    from orchestration import housekeeping
    from orchestration import paths as home_paths

    p = home_paths.export_env(home_paths.point_at(home)).make_dirs()
    lines, parsed = housekeeping.repair(p)
    for line in lines:
        typer.echo(f"repaired {line}")
    if parsed is not None:
        typer.echo(f"parsed {parsed.parsed + len(parsed.failed)} reports from {p.raw_dir} "
                   f"({len(parsed.failed)} could not be parsed)")
    typer.echo("run `ogi run` to rebuild and publish the warehouse" if lines or parsed else f"{p.home}: nothing to repair")


@app.command()
def inspect(
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    open_: bool = typer.Option(False, "--open", help="Open the overview in the default web browser."),
) -> None:
    """Write the inspector's site of the published warehouse: HOME/inspector/index.html.

    Static pages that open from the file system, offline (each run writes them too): an
    overview, the indicators, each quarantined report with its breaking cells marked, and
    the agencies with quality issues.
    """
    import webbrowser

    from inspector import build_site, history, links
    from orchestration import paths as home_paths

    p = home_paths.point_at(home)
    if not p.warehouse.exists():
        typer.echo(f"no published warehouse at {p.warehouse}: run `ogi run --home {p.home}` first", err=True)
        raise typer.Exit(1)
    stats = build_site(p.warehouse, p.home / links.SITE_DIR, raw_dir=p.raw_dir, runs=history.read(p.home))
    index = p.home / links.SITE_DIR / links.INDEX
    typer.echo(f"{stats.pages} pages ({stats.report_pages} quarantined reports, {stats.agency_pages} agencies), "
               f"{stats.bytes / 1e6:.1f} MB in {stats.seconds:.1f} s: {index}")
    if open_:
        webbrowser.open(index.as_uri())


@app.command()
def ui(
    inbox: Optional[Path] = typer.Option(None, "--inbox", help=INBOX_HELP, file_okay=False),
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    port: int = typer.Option(3000, "--port", "-p", help="Port of the web UI on 127.0.0.1."),
) -> None:
    """Start the Dagster UI and daemon (schedule, inbox sensor) on 127.0.0.1, telemetry off.

    Stops cleanly on SIGTERM, SIGINT or SIGHUP (Ctrl-C, `kill`, a service manager), also when
    started in the background: every process of the UI is gone within seconds.
    """
    from orchestration import preflight, runner, supervise
    from orchestration.paths import REPO_DIR

    try:
        p = preflight.locate(home=home, inbox=inbox)
    except preflight.PreflightError as exc:
        typer.echo(f"ogi ui: {exc}", err=True)
        raise typer.Exit(2) from None
    runner.prepare()
    typer.echo(f"Dagster UI on http://127.0.0.1:{port} · home {p.home} · inbox {p.inbox}")
    dagster = str(Path(sys.executable).parent / "dagster")
    # no -m: dagster dev reads [tool.dagster] of pyproject.toml (module and code location name)
    code = supervise.run([dagster, "dev", "-h", "127.0.0.1", "-p", str(port)], cwd=REPO_DIR, env=dict(os.environ))
    typer.echo("Dagster UI stopped")
    raise typer.Exit(code)


@app.command()
def issues(
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    as_json: bool = typer.Option(False, "--json", help="One JSON object: the verdict and every issue."),
    warnings: bool = typer.Option(False, "--warnings", "-w", help="List the warnings too, not only quarantines."),
    limit: int = typer.Option(50, "--limit", min=0, help="Issues listed on the terminal (0: all)."),
) -> None:
    """The last quality gate's verdict and findings, passed or not, without the published warehouse.

    Quarantined reports (blocking issues: file, agency, year, rule, scope, expected, actual,
    residual) and the run-level verdict (why a run was blocked), read from
    HOME/quality/last_gate.json and HOME/parquet/quality_issues.parquet.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from orchestration import findings, preflight

    p = preflight.home_paths(home)
    try:
        found = findings.load(p)
    except findings.NoFindings as exc:
        typer.echo(f"ogi issues: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(found.to_json(), ensure_ascii=False, default=str) + "\n")
        raise typer.Exit(0)
    console = Console(file=sys.stdout)
    v = found.verdict
    if v:
        state = "[green]passed[/]" if v.get("passed") else "[red bold]FAILED: the run was blocked, nothing published[/]"
        console.print(f"Quality gate of run {str(v.get('run_id', '?'))[:8]} ({v.get('checked_at', '?')}): {state}")
        for reason in v.get("failures") or []:
            console.print(f"  [red]✗[/] {escape(str(reason))}")
        stats = v.get("stats") or {}
        if stats:
            console.print(
                f"  {stats.get('report_count', '?')} reports, {stats.get('parse_error_count', 0)} parse failures · "
                f"quarantined {100 * float(stats.get('decertified_share') or 0):.1f}%, parse failures "
                f"{100 * float(stats.get('parse_failure_share') or 0):.1f}% "
                f"(the run fails above {100 * float(stats.get('max_bad_share') or 0):.0f}%)")
        if v.get("data_docs"):
            console.print(f"  Data Docs: [cyan]{v['data_docs']}[/]")
    quarantined = sorted({i["report_id"] for i in found.blocking})
    console.print(f"{len(quarantined)} reports quarantined ({len(found.blocking)} blocking issues), "
                  f"{len(found.warnings)} warnings · {found.issues_path}")
    shown = found.issues if warnings else found.blocking
    if shown:
        table = Table(show_lines=False)
        for name in ("severity", "source_file", "agency", "year", "rule", "scope", "expected", "actual", "residual"):
            table.add_column(name, justify="right" if name in ("year", "expected", "actual", "residual") else "left")
        for issue in shown[:limit or None]:
            table.add_row(*(escape("" if issue[c] is None else f"{issue[c]:g}" if isinstance(issue[c], float)
                                   else str(issue[c]))
                            for c in ("severity", "source_file", "agency", "year", "rule", "scope", "expected",
                                      "actual", "residual")))
        console.print(table)
        if limit and len(shown) > limit:
            console.print(f"… and {len(shown) - limit} more (--limit 0 lists all, --json gives every field)")
    if found.warnings and not warnings:
        console.print("  --warnings lists the warnings too")


@app.command()
def sql(
    query: str = typer.Argument(..., help="The SQL to run ('-' reads it from standard input)."),
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    as_csv: bool = typer.Option(False, "--csv", help="CSV with a header line, every row."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per row (JSON Lines)."),
    max_rows: int = typer.Option(100, "--max-rows", min=1, help="Rows shown in the terminal table."),
) -> None:
    """Query the published warehouse, read-only: a table on the terminal, or CSV / JSON Lines.

    The marts come first on the search path: `select * from agg_agency_year` reads
    marts.agg_agency_year. Example: ogi sql "select agency, year, denial_rate from
    agg_agency_year order by denial_rate desc nulls last limit 10"
    """
    import csv as csv_module

    import duckdb
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from orchestration import analyst, preflight

    if as_csv and as_json:
        raise typer.BadParameter("--csv or --json, not both")
    text = sys.stdin.read() if query == "-" else query
    p = preflight.home_paths(home)
    try:
        con = analyst.connect(p)
    except analyst.NoWarehouse as exc:
        typer.echo(f"ogi sql: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        try:
            result = analyst.query(con, text)
            if as_csv:
                writer = csv_module.writer(sys.stdout, lineterminator="\n")
                writer.writerow(result.columns)
                for row in result.rows:
                    writer.writerow(["" if v is None else v for v in analyst.jsonable(list(row))])
            elif as_json:
                for row in result.rows:
                    sys.stdout.write(json.dumps(dict(zip(result.columns, analyst.jsonable(list(row)))),
                                                ensure_ascii=False) + "\n")
            else:
                console = Console(file=sys.stdout)
                table = Table(*result.columns, show_lines=False)
                more = 0
                for n, row in enumerate(result.rows):
                    if n >= max_rows:
                        more += 1
                        continue
                    table.add_row(*(escape("NULL" if v is None else str(v)) for v in row))
                console.print(table)
                if more:
                    console.print(f"… {more} more rows (--max-rows, or --csv / --json for every row)")
        except duckdb.Error as exc:
            typer.echo(f"ogi sql: {exc}", err=True)
            raise typer.Exit(1) from None
    finally:
        con.close()
    sys.stdout.flush()


@app.command()
def export(
    to: Path = typer.Option(..., "--to", file_okay=False, help="Folder to write (created when missing)."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, xlsx (Excel) or parquet."),
    home: Optional[Path] = typer.Option(None, "--home", help=HOME_HELP, file_okay=False),
    tables: Optional[str] = typer.Option(None, "--tables", help="Comma-separated marts tables (default: all)."),
) -> None:
    """Export the marts of the published warehouse for spreadsheets and other tools, with their documentation.

    One file per table (DIR/<table>.csv, .xlsx or .parquet), DIR/tables.csv (rows and what each
    table holds) and DIR/columns.csv (what each column means, from the dbt docs); each workbook
    also has a 'columns' sheet. Excel holds 1,048,575 rows a sheet: a longer table goes on to
    further sheets.
    """
    from rich.console import Console

    from orchestration import analyst, preflight

    if fmt not in analyst.FORMATS:
        raise typer.BadParameter(f"--format {fmt!r}: one of {', '.join(analyst.FORMATS)}")
    p = preflight.home_paths(home)
    chosen = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    console = Console(file=sys.stdout)
    try:
        with console.status(f"Exporting the marts of {p.warehouse} as {fmt}…"):
            done = analyst.export(p, to.expanduser().resolve(), fmt, chosen)
    except analyst.NoWarehouse as exc:
        typer.echo(f"ogi export: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    for item in done:
        console.print(f"  {item.table}: {item.rows:,} rows → {', '.join(str(f) for f in item.files)}", soft_wrap=True)
    console.print(f"What each table and column means: {to / 'tables.csv'}, {to / 'columns.csv'}", soft_wrap=True)


#: Set by a command after heavy work: the process ends without the interpreter's teardown
#: (after ``ogi run``, ~2 s of freeing dbt's, Dagster's and DuckDB's objects one by one).
_fast_exit = False


def main() -> None:
    """Console-script entry point: a full disk is one line, not a traceback (orchestration/diskfull.py)."""
    from orchestration import diskfull

    def home() -> Path:
        from orchestration import paths

        return paths.current().home

    try:
        with diskfull.guard(home, typer.echo):
            app()
    except SystemExit as exc:
        if _fast_exit:
            import logging
            import multiprocessing.util

            from orchestration import dbt_inprocess

            dbt_inprocess.forget_manifest()
            # dbt's manifests hold multiprocessing locks (named semaphores the resource tracker watches):
            # release them as the interpreter's exit would, without collecting the whole heap (~0.4 s)
            multiprocessing.util._run_finalizers(0)
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))
        raise


if __name__ == "__main__":
    main()
