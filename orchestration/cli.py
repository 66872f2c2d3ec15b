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

    A file that cannot be parsed prints {"source": ..., "error": ..., "error_kind": ...};
    the other files go on and the exit status is 1.
    """
    from ingestion.parse import iter_files, parse_file
    from ingestion.record import ParseError
    from orchestration import settings

    try:
        limits = {"max_bytes": settings.max_file_bytes(), "timeout_s": settings.FILE_TIMEOUT_S.get()}
    except settings.SettingError as exc:
        raise typer.BadParameter(str(exc)) from None
    failed = False
    for path in iter_files(paths):
        try:
            obj = parse_file(path, **limits).to_json(provenance=provenance)
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
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show dbt's output instead of logging it."),
) -> None:
    """Build the whole warehouse now: ingest the inbox, parse, dbt, quality gate, publish.

    Runs the same Dagster job as the nightly schedule, in this process, recorded in
    HOME/dagster (open `ogi ui` afterwards to browse the run).
    """
    import contextlib
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from orchestration import diskfull, runner

    console = Console(file=sys.stdout)  # the real stdout: dbt's output is redirected to the log below
    started = time.monotonic()
    with console.status("Preparing (dbt manifest, Dagster instance)…"):
        p = runner.prepare(home=home, inbox=inbox)
        import dagster as dg

        definitions = runner.load_definitions()
    steps = runner.steps_of(definitions)
    console.print(f"[bold]ogi run[/] inbox [cyan]{p.inbox}[/] → home [cyan]{p.home}[/]")

    log_path = p.home / "logs" / "ogi-run.log"
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

    with open(log_path, "w", encoding="utf-8") as log, dg.DagsterInstance.from_config(str(p.dagster_home)) as instance:
        out = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(log)
        with progress, out:
            outcome = runner.run_warehouse(instance, definitions, on_event=on_event)
    _summary(console, outcome, p, log_path, time.monotonic() - started)
    raise typer.Exit(0 if outcome.success else 1)


def _summary(console, outcome, p, log_path: Path, seconds: float) -> None:
    """Files seen, parsed and failed (with reasons), rows per table, where the warehouse is."""
    from rich.markup import escape
    from rich.table import Table

    inv = outcome.metadata("raw_reports")
    errors = outcome.metadata("raw/parse_errors")
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
    if outcome.checks:
        data_failed = outcome.checks.get("failed", 0) - len(quality_failed)
        console.print(f"Data tests: {outcome.checks.get('passed', 0)} passed, {data_failed} failed")
    if gate:
        verdict = "[green]passed[/]" if gate.get("gate_passed") else "[red bold]FAILED[/]"
        rules = ", ".join(c.split(":", 1)[1] for c in quality_failed if not c.endswith(":quality_gate"))
        console.print(
            f"Quality gate {verdict}: {gate.get('dagster/row_count', 0)} issues ({gate.get('new_issues', 0)} new), "
            f"{gate.get('quarantined_reports', 0)} reports quarantined{' by ' + rules if rules else ''} "
            f"· see marts.quality_issues"
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
        console.print(f"  e.g. duckdb -readonly {p.warehouse} \"select * from marts.agg_agency_year limit 10\"", soft_wrap=True)
        site = outcome.metadata("inspector").get("path")
        if site:
            console.print(f"  inspector (static pages, open from the file system): [cyan]{site}[/]")
    elif "published_warehouse" in outcome.materializations:
        for step, message in outcome.failures:
            console.print(f"[red bold]{step} failed:[/] {escape(message)}")
        console.print(f"[yellow bold]Warehouse published[/] ({p.warehouse}), but a later step failed after {seconds:.0f} s")
        console.print(f"  logs: {log_path}, {p.dbt_log_dir}  ·  run id {outcome.run_id} (see `ogi ui`)")
    else:
        from orchestration import diskfull

        full = diskfull.from_failures(outcome.failures, p.home)
        if full:  # one line, not the errors of each layer
            console.print(f"[red bold]{escape(full)}[/]", soft_wrap=True)
        for step, message in [] if full else outcome.failures:
            console.print(f"[red bold]{step} failed:[/] {escape(message)}")
        state = f"left as it was: {p.warehouse}" if p.warehouse.exists() else "not published yet"
        console.print(f"[red bold]Run failed[/] after {seconds:.0f} s; the published warehouse is {state}")
        console.print(f"  logs: {log_path}, {p.dbt_log_dir}  ·  run id {outcome.run_id} (see `ogi ui`)")


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
    from orchestration import housekeeping, paths as home_paths

    if home is not None:
        os.environ["OGI_HOME"] = str(Path(home).expanduser().resolve())
    p = home_paths.export_env(home_paths.current()).make_dirs()
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

    if home is not None:
        os.environ["OGI_HOME"] = str(Path(home).expanduser().resolve())
    p = home_paths.current()
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
    """Start the Dagster UI and daemon (schedule, inbox sensor) on 127.0.0.1, telemetry off."""

    from orchestration import runner
    from orchestration.paths import REPO_DIR

    p = runner.prepare(home=home, inbox=inbox)
    typer.echo(f"Dagster UI on http://127.0.0.1:{port} · home {p.home} · inbox {p.inbox}")
    dagster = str(Path(sys.executable).parent / "dagster")
    os.chdir(REPO_DIR)
    # no -m: dagster dev reads [tool.dagster] of pyproject.toml (module and code location name)
    os.execv(dagster, [dagster, "dev", "-h", "127.0.0.1", "-p", str(port)])


def main() -> None:
    """Console-script entry point: a full disk is one line, not a traceback (orchestration/diskfull.py)."""
    from orchestration import diskfull

    def home() -> Path:
        from orchestration import paths

        return paths.current().home

    with diskfull.guard(home, typer.echo):
        app()


if __name__ == "__main__":
    main()
