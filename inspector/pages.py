"""What each page shows: the queries' rows turned into the context of a template (templates/*.html).

Aggregate pages for the whole warehouse (overview, indicators, the listings), a detail page
only where a person needs one: each quarantined report, and each agency with a quality
issue (see the README for why not every agency).
"""
from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import duckdb

from . import charts, identities, links, queries
from .forms import Marks, Reference, apply_marks, printed_tables
from .labels import CAUSES, INDICATORS, TABLES, cause_of, rule_label

#: Rows per page of the listings (quarantined reports, agencies).
PAGE_SIZE = 500
#: The table of the form each indicator is computed from (the others: table 3, applications).
INDICATOR_TABLES = {"reconsideration_correction_rate": "reviews", "litigation_loss_rate": "reviews"}
#: Runs the overview charts.
HISTORY_RUNS = 30


def fmt_time(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text[:16].replace("T", " ") + (" UTC" if text.endswith(("Z", "+00:00")) else "")


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:.{digits}f}%"


def number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _chart(label: str, builder, *args: Any, **kwargs: Any) -> str:
    return charts.draw(label, builder, *args, **kwargs)


# --------------------------------------------------------------------------- overview


def overview(con: duckdb.DuckDBPyConnection, runs: list[dict[str, Any]]) -> dict[str, Any]:
    totals = queries.totals(con)
    figures: list[dict[str, Any]] = []

    def add(key: str, chart: tuple | None, label: str, note: str | None = None,
            empty: str = "暂无数据 No data yet.") -> None:
        """A figure; ``chart`` is (builder, args, kwargs), or None when there is nothing to draw."""
        figures.append({"key": key, "svg": _chart(label, chart[0], *chart[1], **chart[2]) if chart else None,
                        "label": label, "note": note, "empty": empty})

    by = {w: queries.reports_by(con, w) for w in ("year", "template", "province", "format")}
    unknown = sum(r["reports"] for r in by["province"] if r["key"] == queries.UNKNOWN)
    by["province"] = [r for r in by["province"] if r["key"] != queries.UNKNOWN]
    names = {"year": ("年度", "Year"), "template": ("模板", "Template"), "province": ("省份", "Province"),
             "format": ("格式", "Format")}
    for what, rows in by.items():
        zh, en = names[what]
        note = (f"省份取自报告索引号中的行政区划代码前两位；{unknown:,} 份报告没有代码，未计入。"
                f" Province from the first two digits of the division code in the report's index number; "
                f"{unknown:,} reports have none and are left out (dim_region will replace this).") \
            if what == "province" else None
        add(f"by_{what}", (charts.certified_stack, (rows, f"报告：按{zh}", f"Reports by {en.lower()}", zh, en),
                           {"horizontal": what == "province"}) if rows else None,
            f"Reports by {en.lower()}", note, empty=note or "暂无数据 No data yet.")

    tables, table_source = queries.certified_by_table(con)
    table_rows = [{"label": f"{TABLES[t['table_name']][0].split(' ')[0]} {TABLES[t['table_name']][1].split(':')[0]}",
                   "share": (t["certified"] / t["reports"]) if t["reports"] else None, **t} for t in tables]
    table_rows.sort(key=lambda r: list(TABLES).index(r["table_name"]))
    add("certified_by_table", (charts.shares, (table_rows, "各表认证比例", "Certified share per table",
                                               f"source: {table_source}"), {}) if totals["reports"] else None,
        "Certified share per table")

    causes = queries.quarantine_causes(con)
    cause_rows = [{"label": " ".join(CAUSES.get(c["cause"], (c["cause"], c["cause"]))), "n": c["reports"]}
                  for c in causes]
    add("causes", (charts.counts, (cause_rows, "隔离原因", "Quarantines by cause", "报告数", "Reports"),
                   {"subtitle": "一份报告可有多个原因 a report may have several causes"})
        if cause_rows else None, "Quarantines by cause", empty="没有隔离的报告 No report is quarantined.")

    kinds, kind_source = queries.parse_error_kinds(con)
    kind_rows = [{"label": k["kind"], "n": k["files"]} for k in kinds[:15]]
    add("parse_errors", (charts.counts, (kind_rows, "解析错误类型", "Parse errors by kind", "文件数", "Files"),
                         {"color": "#f58518", "subtitle": f"source: {kind_source}"})
        if kind_rows else None, "Parse errors by kind", empty="没有解析错误 Every file was parsed.")

    history_rows = []
    for r in runs[-HISTORY_RUNS:]:
        label = fmt_time(r.get("finished_at"))[5:16] or str(r.get("run_id", ""))[:8]
        if any(h["run"] == label for h in history_rows):  # two runs in the same minute
            label = f"{label} {str(r.get('run_id', ''))[:4]}"
        history_rows.append({**r, "run": label})
    add("history", (charts.history, (history_rows,), {}) if history_rows else None, "Run history")

    return {
        "title": "概览 Overview",
        "totals": totals,
        "figures": {f["key"]: f for f in figures},
        "rules": [{**r, "label": rule_label(r["rule"])} for r in queries.issues_by_rule(con)],
        "recent_errors": queries.recent_parse_errors(con, 20),
        "runs": list(reversed(runs[-HISTORY_RUNS:])),
        "tables": table_rows,
        "table_source": table_source,
    }


# --------------------------------------------------------------------------- indicators


def indicators(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    hist = queries.indicator_histograms(con)
    by_year = queries.indicator_spread(con, "year")
    by_province = queries.indicator_spread(con, "province")
    summary = {s["indicator"]: s for s in queries.indicator_summary(con)}
    sections = []
    for ind, (zh, en, formula) in INDICATORS.items():
        figs = []
        if hist[ind]:
            figs.append(_chart(f"{en}: distribution", charts.histogram, hist[ind], zh, en))
        if by_year[ind]:
            figs.append(_chart(f"{en} by year", charts.spread, by_year[ind], zh, en, "年度", "Year", horizontal=False))
        if by_province[ind]:
            figs.append(_chart(f"{en} by province", charts.spread, by_province[ind], zh, en, "省份", "Province",
                               horizontal=True))
        sections.append({"key": ind, "zh": zh, "en": en, "formula": formula, "figures": figs,
                         "summary": summary.get(ind, {}), "by_year": by_year[ind]})
    reasons = queries.denial_reasons(con)
    return {
        "title": "指标 Indicators",
        "sections": sections,
        "reasons_svg": _chart("Denial rate by reason", charts.denial_reasons, reasons) if reasons else None,
        "agency_years": con.execute("select count(*) from marts.agg_agency_year").fetchone()[0],
    }


# --------------------------------------------------------------------------- listings


def paginate(rows: list[dict[str, Any]], first: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, {rows, page, pages, links}) for each page of ``rows`` (one page when empty)."""
    count = max(1, math.ceil(len(rows) / PAGE_SIZE))
    pages = [{"number": n, "href": links.listing_page(first, n)} for n in range(1, count + 1)]
    for n in range(1, count + 1):
        yield links.listing_page(first, n), {
            "rows": rows[(n - 1) * PAGE_SIZE:n * PAGE_SIZE], "page": n, "pages": pages, "total": len(rows)}


def quarantined_rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in reports:
        causes = sorted({cause_of(rule) for rule in r["rules"]})
        out.append({**r, "href": links.report_page(r["report_id"]),
                    "agency_href": links.agency_page(r["agency_id"]) if r["agency"] and r.get("agency_id") else None,
                    "causes": [CAUSES[c] for c in causes],
                    "rule_labels": [rule_label(rule) for rule in r["rules"]]})
    return out


# --------------------------------------------------------------------------- one report


def report(ref: Reference, row: dict[str, Any], issues: list[dict[str, Any]], cells: dict[str, Any],
           site_dir: Path, raw_dir: Path) -> dict[str, Any]:
    """A quarantined report: its tables as printed, the cells of each broken rule marked."""
    marks = Marks()
    listed = []
    tables = printed_tables(ref, row["template"], cells)
    printed_order = {s.key: n for n, s in enumerate(s for t in tables for line in t.body for s in line if s.key)}

    def order(issue: dict[str, Any]) -> tuple:
        formula = identities.parse(issue["cells"] or issue["scope"])
        first = min((printed_order.get(t.key, len(printed_order)) for t in formula.terms if t.own),
                    default=len(printed_order))
        return (issue["severity"] != "blocking", issue["rule"], first, issue["scope"] or "")

    issues = sorted(issues, key=order)
    for number_, issue in enumerate(issues, start=1):
        formula = identities.parse(issue["cells"])
        if issue["scope_kind"] == "cell" and not formula.terms and issue["scope"]:
            formula = identities.parse(issue["scope"])
        for side in ("lhs", "rhs"):
            for key in formula.own_keys(side):
                marks.add(key, number_, side if formula.rhs else "lhs")
        said = identities.reading(issue["rule"], formula, issue["expected"], issue["actual"], issue["residual"],
                                  ref.describe)
        others = [t for t in formula.terms if not t.own]
        listed.append({
            "number": number_, "rule": issue["rule"], "label": rule_label(issue["rule"]),
            "severity": issue["severity"], "scope": issue["scope"], "scope_kind": issue["scope_kind"],
            "zh": said.zh, "en": said.en, "difference": said.difference,
            "difference_text": number(said.difference) if said.difference is not None else None,
            "cells": issue["cells"], "expected": issue["expected"], "actual": issue["actual"],
            "residual": issue["residual"], "cause": CAUSES[cause_of(issue["rule"])] if issue["severity"] == "blocking"
            else None,
            "other_reports": [{"year": t.other_year, "report_id": t.other_report, "key": t.key} for t in others],
            "lhs": formula.own_keys("lhs"), "rhs": formula.own_keys("rhs"),
            "tables": [(t, TABLES[t][0].split(" ")[0]) for t in dict.fromkeys(x.table for x in formula.terms if x.own)
                       if t in TABLES],
        })
    page_dir = site_dir / "reports"
    raw_href = None
    if row.get("raw_path"):
        raw_href = Path(os.path.relpath(raw_dir / row["raw_path"], page_dir)).as_posix()
    unread = sum(1 for t in tables for line in t.body for s in line if "unread" in s.classes)
    return {
        "title": f"{row['agency'] or row['source_file']} {row['year'] or ''}",
        "report": row,
        "issues": listed,
        "tables": apply_marks(tables, marks),
        "raw_href": raw_href,
        "agency_href": f"../{links.agency_page(row['agency_id'])}" if row["agency"] and row.get("agency_id") else None,
        "warnings": queries.warnings_list(row.get("warnings_json")),
        "unread": unread,
        "status_known": any(getattr(c, "status", None) for c in cells.values()),
    }


# --------------------------------------------------------------------------- one agency


def agency(ref: Reference, row: dict[str, Any], detail: dict[str, list[dict[str, Any]]],
           quarantined: set[str]) -> dict[str, Any]:
    """A body with issues (``agency_id``, whatever names it printed): its reports over the years, its
    indicators as a small series (each from its own table, where that table is certified), identity 5."""
    years = sorted({r["year"] for r in detail["reports"] if r["year"] is not None})
    by_year = {r["year"]: r for r in detail["indicators"]}
    series = []
    for ind, (zh, en, formula) in INDICATORS.items():
        table = INDICATOR_TABLES.get(ind, "applications")
        cells = []
        for y in years:
            found = by_year.get(y, {})
            value = found.get(ind)
            cells.append({"year": y, "value": value, "text": pct(value),
                          "width": 0 if value is None else round(100 * max(0.0, min(1.0, value)), 1),
                          "missing": not found.get(f"certified_{table}", False)})
        series.append({"key": ind, "zh": zh, "en": en, "formula": formula, "cells": cells})
    carry = []
    for c in detail["carry"]:
        comparable = c["prior_year"] is not None and c["prior_year"] == c["year"] - 1
        match = None
        if comparable and c["carried_over"] is not None:
            match = (c["carried_over"] or 0) == (c["prior_carried_forward"] or 0)
        carry.append({**c, "comparable": comparable, "match": match})
    issues = []
    for i in detail["issues"]:
        formula = identities.parse(i["cells"])
        said = identities.reading(i["rule"], formula, i["expected"], i["actual"], i["residual"], ref.describe)
        issues.append({**i, "label": rule_label(i["rule"]), "zh": said.zh, "en": said.en,
                       "difference_text": number(said.difference) if said.difference is not None else None,
                       "href": f"../{links.report_page(i['report_id'])}" if i["report_id"] in quarantined else None})
    reports = [{**r, "href": f"../{links.report_page(r['report_id'])}" if r["report_id"] in quarantined else None}
               for r in detail["reports"]]
    names = [n for n in (row.get("names") or "").split(" / ") if n]
    return {"title": row["agency"], "agency": row, "names": names, "years": years, "series": series,
            "carry": carry, "issues": issues, "reports": reports}
