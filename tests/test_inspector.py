"""The inspector: its parts alone, then the site a real run writes, opened in a real headless browser.

The site must be self-contained and offline.  Three checks, each of its own kind:

* every page, as written: a Content-Security-Policy ``default-src 'none'`` meta tag, no
  script, no element that loads anything, no attribute or style naming another origin, and
  every relative link resolving to a file that exists;
* every checked page, as Chromium loads it from the file system (host names resolving to
  nothing): no request from the page in Chromium's net log, no CSP violation in its
  console, and the DOM holds what a person must see (the charts' SVG, the marked cells);
* the two detectors themselves, on a page that does load something: the net log catches a
  page's request, the console catches the CSP blocking one (else "no request" proves nothing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pytest
from lxml import html as lxml_html
from typer.testing import CliRunner

from expectations.alerts import build_alert
from inspector import history, identities, links, regions
from inspector.forms import Cell, Marks, Reference, applications_table
from inspector.site import CSP
from orchestration import paths, runner

import browser
from fixture_paths import SAMPLES

SEED = SAMPLES / "000_f1db75d64b6a785a.txt"
AGENCY = "安源区统计局"  # seed 000 as another body's report, so that it is a report of its own
BROKEN_TEXT = (SEED.read_text(encoding="utf-8").replace("安源区商务局", AGENCY)
               # 5 new requests from natural persons, handled nowhere: identities 1 and 3 break
               .replace("一、本年新收政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                        "一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 0 |", 1)
               # a table 2 row the parser will not find: its cells are unread (table 3's
               # identities are still judged: the unread cells are in another table)
               .replace("规章 | 0 | 0 | 0 |\n", "", 1))
REVIEW_TERMS = " + ".join(f"reviews.reconsideration.{c}" for c in ("upheld", "corrected", "other", "pending"))

needs_browser = pytest.mark.skipif(
    browser.chromium() is None and not browser.required(),
    reason=f"no Chromium on this machine: the inspector's browser test needs one; {browser.INSTALL_HINT}")


# --------------------------------------------------------------------------- the parts


def test_an_issue_names_the_cells_of_each_side() -> None:
    formula = identities.parse(f"reviews.reconsideration.total = {REVIEW_TERMS}")
    assert formula.own_keys("lhs") == ["reviews.reconsideration.total"]
    assert formula.own_keys("rhs") == REVIEW_TERMS.split(" + ")

    carry = identities.parse("applications.carried_over.total = applications.carried_forward.total "
                             "of the 2022 report 3f0c2a9b")
    assert carry.own_keys("lhs") == ["applications.carried_over.total"] and carry.own_keys("rhs") == []
    assert (carry.rhs[0].other_year, carry.rhs[0].other_report) == (2022, "3f0c2a9b")

    stock = identities.parse("proactive.regulations.in_force = proactive.regulations.in_force of the 2022 report "
                             "ab12cd34 + proactive.regulations.issued - proactive.regulations.abolished")
    assert [(t.key, t.sign, t.own) for t in stock.rhs] == [
        ("proactive.regulations.in_force", 1, False), ("proactive.regulations.issued", 1, True),
        ("proactive.regulations.abolished", -1, True)]
    one_cell = identities.parse("applications.granted.natural_person raw='-3' at line 40 col 2")
    assert one_cell.own_keys("lhs") == ["applications.granted.natural_person"] and not one_cell.rhs


def test_the_residual_reads_as_how_far_apart_the_sides_are() -> None:
    formula = identities.parse(f"reviews.reconsideration.total = {REVIEW_TERMS}")
    said = identities.reading("identity_4_reviews", formula, expected=11.0, actual=0.0, residual=-11.0)
    assert said.difference == 11
    assert "相差 11" in said.zh and "off by 11" in said.en and "-11" not in said.zh + said.en
    assert identities.difference(5.0) == identities.difference(-5.0) == 5


def test_province_from_the_division_code() -> None:
    assert regions.province_label("320829") == "江苏 Jiangsu"
    assert regions.province_label(None) == regions.province_label("99") == "未知 unknown"


def _reference() -> Reference:
    from ingestion.templates import APPLICANT_LABELS, APPLICATION_ROWS, OUTCOME_GROUPS

    groups = {g: {"label_zh": zh, "label_en": en, "sort_order": n}
              for n, (g, (zh, en)) in enumerate(OUTCOME_GROUPS.items(), start=1)}
    rows = [{"row_key": r.key, "label_zh": r.label, "label_en": r.english, "row_group": r.group,
             "row_variant": r.other_variant or "both", "sort_order": n} for n, r in enumerate(APPLICATION_ROWS)]
    cols = [{"applicant_type": k, "label_zh": zh, "label_en": en, "sort_order": n, "is_total": k == "total"}
            for n, (k, (zh, en)) in enumerate(APPLICANT_LABELS.items())]
    cells = {("2021", "applications", "single", r["row_key"], c["applicant_type"])
             for r in rows if r["row_variant"] != "split" for c in cols}
    return Reference(rows, groups, cols, [], [], [], cells)


def test_cells_are_marked_by_side_and_by_what_the_parser_read() -> None:
    ref = _reference()
    marks = Marks()
    marks.add("applications.total.total", 1, "lhs")
    marks.add("applications.granted.total", 1, "rhs")
    cells = {
        "applications.total.total": Cell(3.0, "3", "line 9 col 8"),
        "applications.granted.total": Cell(1.0, "1", "line 4 col 8"),
        "applications.denied_state_secret.total": Cell(None, "\xa0", "line 5 col 8"),  # printed blank
        "applications.denied_process_info.total": Cell(None, "", ""),  # the row was not found
        "applications.other.total": Cell(2.0, "2", "line 7 col 8", status="inferred"),  # once status exists
        "applications.rejected_duplicate.total": Cell(None, "", "line 8 col 8", status="unread"),
    }
    table = applications_table(ref, "2021", cells, marks)
    slots = {s.key: s for line in table.body for s in line if s.key}
    assert "lhs" in slots["applications.total.total"].classes and slots["applications.total.total"].badges == [(1, "lhs")]
    assert "rhs" in slots["applications.granted.total"].classes
    assert "blank" in slots["applications.denied_state_secret.total"].classes
    assert "unread" in slots["applications.denied_process_info.total"].classes
    assert "inferred" in slots["applications.other.total"].classes
    assert "unread" in slots["applications.rejected_duplicate.total"].classes
    # a cell the form requires and the report does not hold at all
    assert "unread" in slots["applications.granted.natural_person"].classes
    assert slots["applications.total.total"].title == "raw '3' · line 9 col 8"
    assert not any(k.startswith("applications.other_") for k in slots)  # row (六) as the report prints it


def test_coming_columns_are_used_once_the_warehouse_has_them() -> None:
    from inspector import queries

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.parse_errors (source_file varchar, error varchar)")
    con.execute("insert into marts.parse_errors values ('a.pdf', 'scanned PDF (12 pages): needs OCR'), "
                "('b.pdf', 'scanned PDF (3 pages): needs OCR'), ('c.txt', 'table 3 not found (no section)')")
    kinds, source = queries.parse_error_kinds(con)
    assert {k["kind"]: k["files"] for k in kinds} == {"scanned PDF": 2, "table N not found": 1}
    assert "error_kind" not in source
    con.execute("alter table marts.parse_errors add column error_kind varchar default 'needs_ocr'")
    kinds, source = queries.parse_error_kinds(con)
    assert kinds == [{"kind": "needs_ocr", "files": 3}] and source == "parse_errors.error_kind"

    con.execute("create table marts.dim_report as select * from (values (true, true, false, true), "
                "(true, true, true, true)) t(is_current, certified_proactive, certified_applications, "
                "certified_reviews)")
    rows, source = queries.certified_by_table(con)
    assert source == "dim_report.certified_<table>"
    assert {r["table_name"]: (r["certified"], r["reports"]) for r in rows} == {
        "proactive": (2, 2), "applications": (1, 2), "reviews": (2, 2)}


def test_history_keeps_the_last_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(history, "KEEP", 3)
    meta = {"raw_reports": {"files_seen": 10, "new_files": 4}, "raw/reports": {"parsed": 3, "failed": 1,
            "reports_per_second": 50.0}, "quality/quality_issues": {"gate_s": 1.5, "quarantined_reports": 2}}
    for n in range(5):
        history.append(tmp_path, history.record(f"run{n}", None, f"2026-01-0{n + 1}T00:00:00+00:00", meta))
    runs = history.read(tmp_path)
    assert [r["run_id"] for r in runs] == ["run2", "run3", "run4"]
    assert (runs[-1]["parse_rate"], runs[-1]["gate_s"], runs[-1]["files_seen"]) == (0.75, 1.5, 10)


def test_alert_links_each_issue_to_its_page(tmp_path: Path) -> None:
    import pandas as pd

    issues = pd.DataFrame([
        {"report_id": "ab" * 32, "rule": "identity_4_reviews", "severity": "blocking", "scope_kind": "row",
         "scope": "reconsideration", "expected": 11.0, "actual": 0.0, "residual": -11.0, "cells": ""},
        {"report_id": "cd" * 32, "rule": "identity_5_carry_over", "severity": "warning", "scope_kind": "column",
         "scope": "total", "expected": 1.0, "actual": 0.0, "residual": -1.0, "cells": ""}])
    reports = pd.DataFrame([
        {"report_id": "ab" * 32, "agency": "甲局", "agency_id": "0a" * 8, "year": 2023, "source_file": "a.txt"},
        {"report_id": "cd" * 32, "agency": "乙局", "agency_id": "0b" * 8, "year": 2024, "source_file": "b.txt"}])
    site = tmp_path / "inspector"

    def page_for(issue):
        return links.issue_page(site, issue)

    alert = build_alert("r1", issues, [], reports, page_for=page_for, inspector_index=site / links.INDEX)
    pages = {i["rule"]: i["inspector_page"] for i in alert["issues"]}
    assert pages == {"identity_4_reviews": str(site / "reports" / f"{'ab' * 32}.html"),
                     "identity_5_carry_over": str(site / "agencies" / f"{'0b' * 8}.html")}
    assert {i["rule"]: i["agency_id"] for i in alert["issues"]}["identity_5_carry_over"] == "0b" * 8
    assert alert["inspector"] == str(site / "index.html")
    failed = build_alert("r2", issues, ["too many parse failures"], reports, page_for=page_for,
                         inspector_index=site / links.INDEX)
    assert "inspector" not in failed and all("inspector_page" not in i for i in failed["issues"])


ROWS = [{"key": "2021", "certified": 3, "quarantined": 1}, {"key": "2022", "certified": 5, "quarantined": 0}]


def _stack(label: str = "Reports by year") -> object:
    from inspector import charts

    return charts.draw(label, charts.certified_stack, ROWS, "报告：按年度", "Reports by year", "年度", "Year")


def test_charts_drawn_by_another_process_are_those_drawn_here() -> None:
    """The run's chart process draws while the other pages are written: the same SVG as here."""
    from inspector import charts
    from orchestration.side_process import SideProcess

    charts._CACHE.clear()
    here = _stack()
    charts._CACHE.clear()
    process = SideProcess(charts.warm_up)
    try:
        drawing = charts.Batch(process)
        with drawing:
            pending = _stack()
        with pytest.raises(RuntimeError, match="before its batch finished"):
            str(pending)
        drawing.start()
        assert drawing._futures and all(f is not None for f in drawing._futures)
        drawing.finish()
    finally:
        process.close()
    assert str(pending) == here and here.startswith('<svg role="img" aria-label="Reports by year"')


def test_a_chart_process_that_died_leaves_the_charts_to_this_one() -> None:
    from inspector import charts
    from orchestration.side_process import SideProcess

    charts._CACHE.clear()
    here = _stack()
    charts._CACHE.clear()
    process = SideProcess(os.abort)  # dies before it draws anything
    try:
        drawing = charts.Batch(process)
        with drawing:
            pending = _stack()
        drawing.start()
        drawing.finish()
    finally:
        process.close()
    assert str(pending) == here


# --------------------------------------------------------------------------- the site of a real run


@dataclass
class Site:
    paths: paths.Paths
    first: runner.Outcome
    dir: Path

    def report_id(self, source_file: str) -> str:
        with duckdb.connect(str(self.paths.warehouse), read_only=True) as con:
            [(rid,)] = con.execute("select report_id from marts.dim_report where source_file = ? and is_current",
                                   [source_file]).fetchall()
        return rid

    def agency_id(self, source_file: str) -> str:
        with duckdb.connect(str(self.paths.warehouse), read_only=True) as con:
            [(agency_id,)] = con.execute("select agency_id from marts.link_report_agency where report_id = ?",
                                         [self.report_id(source_file)]).fetchall()
        return agency_id

    def page(self, source_file: str) -> Path:
        return self.dir / links.report_page(self.report_id(source_file))


@pytest.fixture(scope="module")
def site(dbt_manifest: Path, tmp_path_factory, test_root: Path) -> Iterator[Site]:
    definitions = runner.load_definitions()
    inbox = tmp_path_factory.mktemp("inspector_inbox")
    shutil.copytree(paths.SAMPLES_DIR, inbox, dirs_exist_ok=True)
    (inbox / "statistics_2021.txt").write_text(BROKEN_TEXT, encoding="utf-8")
    (inbox / "junk.bin").write_bytes(bytes(range(256)) * 8)
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test(temp_dir=str(test_root)) as instance:
        env.setenv("OGI_INBOX", str(inbox))
        first = runner.run_warehouse(instance, definitions)
        p = paths.current()
        yield Site(p, first, p.home / links.SITE_DIR)


def test_a_run_writes_the_site_and_its_history(site: Site) -> None:
    assert site.first.success, site.first.failures
    meta = site.first.metadata("inspector")
    assert meta["report_pages"] >= 2 and meta["agency_pages"] >= 2 and meta["size_bytes"] > 0
    assert meta["path"] == str(site.dir / "index.html")
    for name in (links.INDEX, links.INDICATORS, links.QUARANTINED, links.AGENCIES):
        assert (site.dir / name).exists(), name
    assert site.page("hzq2023.txt").exists() and site.page("statistics_2021.txt").exists()
    assert (site.dir / links.agency_page(site.agency_id("statistics_2021.txt"))).exists()
    assert not list(site.paths.home.glob(".inspector-*"))  # built aside, swapped in, nothing left over
    runs = history.read(site.paths.home)
    assert runs[-1]["run_id"] == site.first.run_id
    assert runs[-1]["files_seen"] == site.first.metadata("raw_reports")["files_seen"]


def test_the_runs_alert_links_to_the_pages(site: Site) -> None:
    alerts = [json.loads(line) for line in (site.paths.home / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    [alert] = [a for a in alerts if a.get("run_id") == site.first.run_id]
    assert alert["inspector"] == str(site.dir / "index.html")
    broken = [i for i in alert["issues"] if i["source_file"] == "statistics_2021.txt"]
    assert broken and all(i["inspector_page"] == str(site.page("statistics_2021.txt")) for i in broken)
    assert all(Path(i["inspector_page"]).exists() for i in alert["issues"] if i.get("inspector_page"))


EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.I)
URL_ATTRIBUTES = ("src", "href", "action", "formaction", "data", "poster", "srcset", "background", "cite",
                  "manifest", "ping", "xlink:href", "{http://www.w3.org/1999/xlink}href")
LOADING_TAGS = ("script", "link", "iframe", "frame", "object", "embed", "img", "audio", "video", "source",
                "base", "form", "image", "use", "track")


def test_every_page_is_self_contained_and_its_links_resolve(site: Site) -> None:
    pages = sorted(site.dir.rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, page
        doc = lxml_html.fromstring(text)
        assert doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content") == [CSP], page
        for tag in LOADING_TAGS:
            assert not doc.xpath(f"//*[local-name()='{tag}']"), (page, tag)
        for element in doc.iter():
            if not isinstance(element.tag, str):
                continue
            assert "url(" not in (element.get("style") or ""), page
            for name in URL_ATTRIBUTES:
                value = element.get(name)
                if value is None:
                    continue
                assert not EXTERNAL.match(value), (page, name, value)
                target = value.split("#", 1)[0]
                if target:
                    assert (page.parent / target).resolve().exists(), (page, value)
        for style in doc.xpath("//style/text()"):
            assert "url(" not in style and "@import" not in style and "@font-face" not in style, page


def _dom(text: str):
    return lxml_html.fromstring(text)


def _cell(doc, key: str):
    [td] = doc.xpath(f"//td[@data-cell='{key}']")
    return td


def test_quarantined_report_shows_its_table_with_the_breaking_cells(site: Site) -> None:
    page = site.page("hzq2023.txt")
    doc = _dom(page.read_text(encoding="utf-8"))
    for row in ("reconsideration", "litigation_after_reconsideration"):
        total = _cell(doc, f"reviews.{row}.total")
        assert "lhs" in total.get("class").split() and total.text_content().startswith("0")
        for part in ("upheld", "corrected", "other", "pending"):
            assert "rhs" in _cell(doc, f"reviews.{row}.{part}").get("class").split()
    assert "lhs" not in (_cell(doc, "reviews.litigation_direct.total").get("class") or "")
    assert _cell(doc, "reviews.reconsideration.upheld").text_content().startswith("10")
    issues = {li.get("data-scope"): li for li in doc.xpath("//li[contains(@class, 'issue')]")}
    residuals = {scope: li.xpath(".//*[@data-residual]/@data-residual") for scope, li in issues.items()}
    # the warehouse stores residual = lhs - rhs = -11 / -5: the page says how far apart the sides are
    assert residuals == {"reconsideration": ["11"], "litigation_after_reconsideration": ["5"]}
    assert "off by 11" in issues["reconsideration"].text_content()
    # the source file and its raw copy, by a relative link that opens the very bytes dropped in
    [raw] = doc.xpath("//a[@data-raw-copy]/@href")
    assert raw.startswith("../../raw/") and "hzq2023.txt" in doc.text_content()
    assert (page.parent / raw).resolve().read_bytes() == (paths.SAMPLES_DIR / "hzq2023.txt").read_bytes()


def test_unread_cells_and_both_sides_of_a_sum_are_marked(site: Site) -> None:
    doc = _dom(site.page("statistics_2021.txt").read_text(encoding="utf-8"))
    rules = {li.get("data-rule") for li in doc.xpath("//li[contains(@class, 'issue')]")}
    assert {"identity_1_balance", "identity_3_applicants", "cells_unread"} <= rules
    # identity 3, row new_received: the printed total 0 against the six columns (5 natural persons)
    assert "lhs" in _cell(doc, "applications.new_received.total").get("class").split()
    assert "rhs" in _cell(doc, "applications.new_received.natural_person").get("class").split()
    unread = doc.xpath("//td[contains(concat(' ', @class, ' '), ' unread ')]/@data-cell")
    assert set(unread) == {f"proactive.regulations.{f}" for f in ("issued", "abolished", "in_force")}
    assert "regulations: row not found" in doc.text_content()  # the parser's own warning


def test_a_bodys_page_follows_it_across_its_names(site: Site) -> None:
    """洪泽区人民政府 (2023) and 淮安市洪泽区人民政府 (2024) are one body: one page, under the body's
    name, with both reports and both names; its 2023 table 3 indicators are there (table 3 is
    certified), its 2023 table 4 ones are not (identity 4 breaks there)."""
    agency_id = site.agency_id("hzq2023.txt")
    assert site.agency_id("hzq2024.txt") == agency_id
    page = site.dir / links.agency_page(agency_id)
    assert page.name == f"{agency_id}.html"
    doc = _dom(page.read_text(encoding="utf-8"))
    assert doc.xpath("//h1/text()")[0].strip() == "淮安市洪泽区人民政府"
    assert "洪泽区人民政府 / 淮安市洪泽区人民政府" in doc.xpath("string(//*[@data-names])")
    files = [td.text_content() for td in doc.xpath("//section[1]//tr/td[3]")]
    assert files == ["hzq2023.txt", "hzq2024.txt"]
    series = {tr.xpath("string(td[1])"): [td.text_content().strip() for td in tr.xpath("td[position() > 1]")]
              for tr in doc.xpath("//table[@data-series]//tr[td]")}
    [denial] = [cells for label, cells in series.items() if "Denial rate" in label]
    [reconsideration] = [cells for label, cells in series.items() if "Reconsideration" in label]
    assert "not certified" not in denial[0] and "%" in denial[0]  # 2023, table 3
    assert "not certified" in reconsideration[0] and "not certified" not in reconsideration[1]
    listing = (site.dir / links.AGENCIES).read_text(encoding="utf-8")
    assert listing.count(f'href="{links.agency_page(agency_id)}"') == 1


def test_ogi_inspect_writes_the_site_again(site: Site) -> None:
    from orchestration.cli import app

    before = (site.dir / "index.html").stat().st_mtime_ns
    result = CliRunner().invoke(app, ["inspect", "--home", str(site.paths.home)])
    assert result.exit_code == 0, result.output
    assert "index.html" in result.output and (site.dir / "index.html").stat().st_mtime_ns > before
    empty = CliRunner().invoke(app, ["inspect", "--home", str(site.paths.home / "nowhere")])
    assert empty.exit_code == 1 and "no published warehouse" in empty.output


def test_charts_are_kept_beside_the_site_for_the_next_run(site: Site, monkeypatch) -> None:
    """A run that left the aggregates as they were draws no chart again: the SVGs of the last
    site are kept beside it (HOME/.inspector_charts/), exactly those, and reused by the next
    build, even in a new process (the in-process cache emptied here)."""
    import vl_convert

    from inspector import build_site, charts, history

    kept = site.paths.home / f".{links.SITE_DIR}_charts"
    first = build_site(site.paths.warehouse, site.dir, raw_dir=site.paths.raw_dir, runs=history.read(site.paths.home))
    svgs = sorted(kept.glob("*.svg"))
    assert first.charts > 0 and 0 < len(svgs) <= first.charts
    (kept / "0123abcd.svg").write_text("<svg>an older site's chart</svg>", encoding="utf-8")
    charts._CACHE.clear()

    def no_drawing(*args, **kwargs):
        raise AssertionError("a chart was drawn again over unchanged data")

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", no_drawing)
    drawn_before = charts.COUNTS["drawn"]
    again = build_site(site.paths.warehouse, site.dir, raw_dir=site.paths.raw_dir, runs=history.read(site.paths.home))
    assert charts.COUNTS["drawn"] == drawn_before and again.charts == first.charts
    assert sorted(kept.glob("*.svg")) == svgs  # the older site's chart is gone, this site's stay
    assert "<svg" in (site.dir / "index.html").read_text(encoding="utf-8")


def test_an_unchanged_reports_or_bodys_page_is_linked_from_the_last_site_not_rendered(site: Site) -> None:
    """A report's page is a function of its report's rows and issues, a body's page of its rows and
    which of its reports are quarantined, both of the inspector's code: a night that changed none of
    them links last night's file; a page whose inputs differ is rendered again. Neither shows a
    count of the whole run (the listings and the overview do), so a night that quarantines another
    report leaves them alone."""
    from inspector import build_site, history
    from inspector.site import INPUTS

    def build():
        return build_site(site.paths.warehouse, site.dir, raw_dir=site.paths.raw_dir,
                          runs=history.read(site.paths.home))

    build()
    page = site.page("hzq2023.txt")
    body = site.dir / links.agency_page(site.agency_id("statistics_2021.txt"))
    before, inode, body_inode = page.read_bytes(), page.stat().st_ino, body.stat().st_ino
    again = build()
    assert again.report_pages >= 2 and again.agency_pages >= 2
    assert again.reused_pages == again.report_pages + again.agency_pages
    assert page.stat().st_ino == inode and body.stat().st_ino == body_inode  # the same files, linked
    assert page.read_bytes() == before
    for kept in (page, body):
        text = kept.read_text(encoding="utf-8")
        assert "本页写于 Page written" in text and 'class="count"' not in text
    assert 'class="count"' in (site.dir / links.QUARANTINED).read_text(encoding="utf-8")
    inputs = json.loads((site.dir / INPUTS).read_text(encoding="utf-8"))
    name = links.report_page(site.report_id("hzq2023.txt"))
    assert name in inputs and links.agency_page(site.agency_id("statistics_2021.txt")) in inputs
    inputs[name] = "rendered from other inputs"
    (site.dir / INPUTS).write_text(json.dumps(inputs), encoding="utf-8")
    third = build()
    assert third.reused_pages == third.report_pages + third.agency_pages - 1
    assert page.stat().st_ino != inode and "hzq2023.txt" in page.read_text(encoding="utf-8")  # rendered anew
    rendered = page.read_bytes()  # the same page as the linked one, but for when it was written (the footer)
    assert rendered[:rendered.index(b"<footer>")] == before[:before.index(b"<footer>")]


# --------------------------------------------------------------------------- in a real browser


@needs_browser
def test_the_browser_detectors_catch_a_page_that_loads_something(tmp_path: Path) -> None:
    img = '<img src="http://inspector-canary.invalid/pixel.png" alt="">'
    loose = tmp_path / "loose.html"
    loose.write_text(f"<!doctype html><meta charset='utf-8'><p>canary</p>{img}", encoding="utf-8")
    assert any("inspector-canary.invalid" in url for url in browser.open_page(loose).requests)
    strict = tmp_path / "strict.html"
    strict.write_text(f"<!doctype html><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
                      f"content=\"{CSP}\"><p>canary</p>{img}", encoding="utf-8")
    loaded = browser.open_page(strict)
    assert loaded.requests == []  # blocked before the network
    assert any("Content Security Policy" in m and "inspector-canary.invalid" in m for m in loaded.console)


@needs_browser
def test_overview_and_report_render_offline_in_a_browser(site: Site) -> None:
    overview = browser.open_page(site.dir / "index.html")
    assert overview.requests == [] and not [m for m in overview.console if "Content Security Policy" in m]
    doc = _dom(overview.dom)
    charts = doc.xpath("//figure[@data-chart]/*[local-name()='svg']")
    assert len(charts) >= 6
    assert all(svg.xpath(".//*[local-name()='path' or local-name()='rect']") for svg in charts)
    assert "报告：按年度" in overview.dom  # Chinese labels stay text in the SVG

    report = browser.open_page(site.page("hzq2023.txt"))
    assert report.requests == [] and not [m for m in report.console if "Content Security Policy" in m]
    doc = _dom(report.dom)
    marked = {td.get("data-cell") for td in doc.xpath("//td[contains(concat(' ', @class, ' '), ' lhs ')]")}
    assert marked == {"reviews.reconsideration.total", "reviews.litigation_after_reconsideration.total"}
    assert sorted(doc.xpath("//*[@data-residual]/@data-residual")) == ["11", "5"]
