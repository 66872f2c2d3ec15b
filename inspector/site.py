"""Writing the site: every page rendered from its template into a fresh folder, then swapped in.

The site is written into ``HOME/.inspector-<random>/`` and renamed to ``HOME/inspector/``
when complete (the old one renamed away first, then removed): a reader never sees half a
site, and a failed build leaves the previous site alone.

Every page is one self-contained HTML file: inline CSS, charts as inline SVG, no script, no
font, image or stylesheet to load, links relative (to each other and to the raw copies in
``HOME/raw/``), and a Content-Security-Policy that forbids the browser to load anything at
all (``default-src 'none'``).  It opens from the file system, offline.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from . import links, pages, queries

#: Sent with every page (as a meta tag): nothing may be fetched, only inline styles apply.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@dataclass
class SiteStats:
    """What a build wrote, and how long it took."""

    path: Path
    seconds: float = 0.0
    pages: int = 0
    bytes: int = 0
    report_pages: int = 0
    agency_pages: int = 0
    charts: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {"pages": self.pages, "report_pages": self.report_pages, "agency_pages": self.agency_pages,
                "size_bytes": self.bytes, "build_s": round(self.seconds, 3), "charts": self.charts,
                "step_s": {k: round(v, 3) for k, v in self.timings.items()}}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("inspector", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pages.pct, number=pages.number, when=pages.fmt_time)
    env.globals.update(csp=CSP, links=links)
    return env


class _Writer:
    def __init__(self, root: Path, env: jinja2.Environment, common: dict[str, Any]) -> None:
        self.root, self.env, self.common = root, env, common
        self.pages = self.bytes = 0

    def write(self, name: str, template: str, **context: Any) -> None:
        depth = name.count("/")
        html = self.env.get_template(template).render({**self.common, **context, "root": "../" * depth, "page": name})
        data = html.encode("utf-8")
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.pages += 1
        self.bytes += len(data)


def build_site(warehouse: Path, out_dir: Path, *, raw_dir: Path | None = None,
               runs: list[dict[str, Any]] | None = None) -> SiteStats:
    """Write the site of the published ``warehouse`` into ``out_dir`` (replaced whole).

    ``raw_dir`` is the home's raw copies (links to a report's source file; default
    ``out_dir/../raw``); ``runs`` the run history, oldest first (inspector.history.read).
    """
    from . import charts

    started = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    raw_dir = Path(raw_dir).resolve() if raw_dir else out_dir.parent / "raw"
    stats = SiteStats(path=out_dir)
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        stats.timings[name] = stats.timings.get(name, 0.0) + now - tick
        tick = now

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = out_dir.parent / f".{out_dir.name}-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        with queries.connect(warehouse) as con:
            built = datetime.now(timezone.utc)
            totals = queries.totals(con)
            common = {"built_at": built, "warehouse": str(warehouse), "totals": totals, "csp": CSP}
            writer = _Writer(work, environment(), common)
            charts_before = _chart_count()

            with charts.disk_cache(out_dir.parent / f".{out_dir.name}_charts"):
                writer.write(links.INDEX, "overview.html", **pages.overview(con, runs or []))
                lap("overview")
                writer.write(links.INDICATORS, "indicators.html", **pages.indicators(con))
                lap("indicators")
            stats.charts = _chart_count() - charts_before

            reports = queries.quarantined_reports(con)
            rows = pages.quarantined_rows(reports)
            for name, listing in pages.paginate(rows, links.QUARANTINED):
                writer.write(name, "quarantined.html", title="隔离的报告 Quarantined reports", **listing)
            ref = queries.reference(con)
            quarantined = {r["report_id"] for r in reports}
            for start in range(0, len(reports), 2000):  # cells in slices: memory stays flat
                chunk = reports[start:start + 2000]
                ids = [r["report_id"] for r in chunk]
                issues, cells = queries.issues_of(con, ids), queries.cells_of(con, ids)
                lap("report queries")
                for r in chunk:
                    writer.write(links.report_page(r["report_id"]), "report.html",
                                 **pages.report(ref, r, issues.get(r["report_id"], []),
                                                cells.get(r["report_id"], {}), out_dir, raw_dir))
                lap("report pages")
            stats.report_pages = len(reports)

            agencies = queries.agencies_with_issues(con)
            agency_rows = [{**a, "href": links.agency_page(a["agency_id"])} for a in agencies]
            for name, listing in pages.paginate(agency_rows, links.AGENCIES):
                writer.write(name, "agencies.html", title="有问题的机构 Agencies with issues", **listing)
            for start in range(0, len(agencies), 2000):
                chunk = agencies[start:start + 2000]
                details = queries.agency_details(con, [a["agency_id"] for a in chunk])
                lap("agency queries")
                for a in chunk:
                    writer.write(links.agency_page(a["agency_id"]), "agency.html",
                                 **pages.agency(ref, a, details[a["agency_id"]], quarantined))
                lap("agency pages")
            stats.agency_pages = len(agencies)
        _swap(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    stats.pages, stats.bytes = writer.pages, writer.bytes
    stats.seconds = time.perf_counter() - started
    return stats


def _chart_count() -> int:
    from . import charts

    return charts.COUNTS["drawn"] + charts.COUNTS["cached"]


def _swap(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target``, removing the old one."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}-old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
