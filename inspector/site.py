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

import contextlib
import dataclasses
import hashlib
import json
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
    #: of which drawn now (the others were kept from the last site)
    charts_drawn: int = 0
    #: pages linked from the previous site: rendered from the same inputs
    reused_pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {"pages": self.pages, "report_pages": self.report_pages, "agency_pages": self.agency_pages,
                "size_bytes": self.bytes, "build_s": round(self.seconds, 3), "charts": self.charts,
                "charts_drawn": self.charts_drawn,
                "reused_pages": self.reused_pages,
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


#: The file in the site that lists each reused page's inputs (page name -> digest).
INPUTS = "page-inputs.json"


def _code_digest() -> str:
    """A digest of the inspector's code and templates: a page rendered by other code is not reused."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for f in sorted([*root.glob("*.py"), *root.glob("templates/*")]):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def inputs_digest(*parts: Any) -> str:
    """The digest of a page's inputs (query rows, settings): equal digests, equal pages."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=_plain, ensure_ascii=False).encode()).hexdigest()


def _plain(o: Any) -> Any:
    # a set's order changes from process to process (string hashing is salted): sort it
    return sorted(o, key=repr) if isinstance(o, (set, frozenset)) else str(o)


class _Writer:
    def __init__(self, root: Path, env: jinja2.Environment, common: dict[str, Any],
                 previous: Path | None = None) -> None:
        self.root, self.env, self.common = root, env, common
        self.pages = self.bytes = self.reused = 0
        # the site this build replaces, and the inputs of its reusable pages
        self.previous = previous
        self.before: dict[str, str] = {}
        self.inputs: dict[str, str] = {}
        if previous is not None and (previous / INPUTS).is_file():
            try:
                self.before = json.loads((previous / INPUTS).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.before = {}  # unreadable: every page is rendered again

    def reuse(self, name: str, digest: str) -> bool:
        """Link the previous site's ``name`` into this one when it was rendered from the same
        inputs (``digest``); False when it must be rendered."""
        self.inputs[name] = digest
        if self.previous is None or self.before.get(name) != digest:
            return False
        old, target = self.previous / name, self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, target)  # the old site is removed after the swap; the link keeps the file
        except OSError:
            return False
        self.pages += 1
        self.reused += 1
        self.bytes += target.stat().st_size
        return True

    def close(self) -> None:
        """Write the inputs of the reusable pages for the next build."""
        (self.root / INPUTS).write_text(json.dumps(self.inputs, sort_keys=True), encoding="utf-8")

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
               runs: list[dict[str, Any]] | None = None, drawer: Any = None) -> SiteStats:
    """Write the site of the published ``warehouse`` into ``out_dir`` (replaced whole; a report
    page whose inputs are those of the replaced site's page is linked from it, not rendered).

    ``raw_dir`` is the home's raw copies (links to a report's source file; default
    ``out_dir/../raw``); ``runs`` the run history, oldest first (inspector.history.read);
    ``drawer`` a process that draws the charts meanwhile (:class:`inspector.charts.Batch`; none:
    they are drawn here).
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
        with contextlib.ExitStack() as charts_kept, queries.connect(warehouse) as con:
            built = datetime.now(timezone.utc)
            totals = queries.totals(con)
            common = {"built_at": built, "warehouse": str(warehouse), "totals": totals, "csp": CSP}
            writer = _Writer(work, environment(), common, previous=out_dir if out_dir.is_dir() else None)
            charts_before, drawn_before = _chart_count(), charts.COUNTS["drawn"]

            charts_kept.enter_context(charts.disk_cache(out_dir.parent / f".{out_dir.name}_charts"))
            # the charts not cached are drawn by the drawer's process while the other pages are written
            drawing = charts.Batch(drawer)
            with drawing:
                overview = pages.overview(con, runs or [])
                lap("overview")
                indicators = pages.indicators(con)
                lap("indicators")
            drawing.start()

            reports = queries.quarantined_reports(con)
            rows = pages.quarantined_rows(reports)
            for name, listing in pages.paginate(rows, links.QUARANTINED):
                writer.write(name, "quarantined.html", title="隔离的报告 Quarantined reports", **listing)
            ref = queries.reference(con)
            # what every kept page depends on besides its own rows: the inspector's code, where the
            # site and the raw copies are, the reference labels
            site_inputs = (_code_digest(), common["warehouse"], str(out_dir), str(raw_dir),
                           inputs_digest(dataclasses.asdict(ref)))
            quarantined = {r["report_id"] for r in reports}
            for start in range(0, len(reports), 2000):  # cells in slices: memory stays flat
                chunk = reports[start:start + 2000]
                issues = queries.issues_of(con, [r["report_id"] for r in chunk])
                # A report page shows its report row, its issues and its cells. The cells are left out
                # of the digest: report_id is the sha256 of the file, and the row carries the parser
                # version and parse time, so equal rows mean the same parse, hence the same cells.
                # Only the pages rendered again read their cells.
                stale = [r for r in chunk if not writer.reuse(
                    links.report_page(r["report_id"]),
                    inputs_digest(*site_inputs, r, issues.get(r["report_id"], [])))]
                cells = queries.cells_of(con, [r["report_id"] for r in stale])
                lap("report queries")
                for r in stale:
                    rid = r["report_id"]
                    writer.write(links.report_page(rid), "report.html",
                                 **pages.report(ref, r, issues.get(rid, []), cells.get(rid, {}), out_dir, raw_dir))
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
                    detail = details[a["agency_id"]]
                    # the page links those of its reports that are quarantined: that subset is an input
                    linked = sorted({x["report_id"] for x in (*detail["reports"], *detail["issues"])} & quarantined)
                    name = links.agency_page(a["agency_id"])
                    if not writer.reuse(name, inputs_digest(*site_inputs, a, detail, linked)):
                        writer.write(name, "agency.html", **pages.agency(ref, a, detail, quarantined))
                lap("agency pages")
            stats.agency_pages = len(agencies)

            drawing.finish()
            lap("charts")
            charts_kept.close()  # the cache keeps exactly this site's charts (after a build that drew them all)
            writer.write(links.INDEX, "overview.html", **overview)
            writer.write(links.INDICATORS, "indicators.html", **indicators)
            lap("overview and indicators")
            stats.charts = _chart_count() - charts_before
            stats.charts_drawn = charts.COUNTS["drawn"] - drawn_before
            writer.close()
        _swap(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    stats.pages, stats.bytes, stats.reused_pages = writer.pages, writer.bytes, writer.reused
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
