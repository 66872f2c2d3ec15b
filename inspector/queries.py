"""Everything the inspector reads, as SQL over the published warehouse, opened read-only.

The published file (``HOME/warehouse.duckdb``) is a copy of the whole build file: the
``marts`` tables, the ``reference`` seeds, the ``intermediate`` tables, and the
``staging`` views.  The cells (with their raw tokens and positions) are only in the views
``staging.stg_cells`` / ``intermediate.int_current_cells``, which read the home's Parquet
parts (``HOME/parquet/cells-*.parquet``) by absolute path: the inspector reads them for the
quarantined reports only, by ``report_id`` (a report's cells never change: its id is its
file's sha256).

Aggregates are computed here, in DuckDB, so that a chart receives tens of rows, never one
per report: the pages stay small at 150,000 reports a year.

Columns coming from other work are used when the published file has them
(:func:`columns`): ``status`` of the cells, ``certified_<table>`` of ``dim_report``,
``error_kind`` of ``parse_errors``.  Until then the pages show what exists (see each
function).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from . import regions
from .forms import Reference
from .labels import INDICATORS, RULE_CAUSE
from .links import agency_key

#: The province of a report without a division code.
UNKNOWN = " ".join(regions.UNKNOWN)
#: The tables of the form that a report's certification can be split by.
FORM_TABLES = ("proactive", "applications", "reviews")
#: Bins of a rate's histogram (5 percentage points each).
RATE_BINS = 20
#: The numerator and denominator of each indicator in marts.agg_agency_year (for pooled rates).
POOLED: dict[str, tuple[tuple[str, ...], str]] = {
    "substantive_disclosure_rate": (("granted", "partially_granted"), "handled"),
    "denial_rate": (("denied",), "handled"),
    "not_held_rate": (("unavailable_not_held",), "handled"),
    "reconsideration_correction_rate": (("reconsideration_corrected",), "reconsideration_total"),
    "litigation_loss_rate": (("litigation_corrected",), "litigation_total"),
}


def _sum(names: tuple[str, ...], alias: str = "") -> str:
    return " + ".join(f"{alias}{c}" for c in names)


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The published warehouse, read-only (a run may replace the file meanwhile: we keep our snapshot)."""
    return duckdb.connect(str(warehouse), read_only=True)


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The columns of ``schema.table`` (empty when it does not exist)."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()
    return {r[0] for r in rows}


def records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def province_sql(report_id: str) -> str:
    """A SQL expression: the province of a report, from the region it is linked to
    (marts.link_report_agency: its 索引号's division code, else the places its agency's name starts
    with; unknown for an ambiguous or placeless name). ``report_id``: the report's id, qualified by
    its table (a bare name would mean the subquery's own)."""
    return (f"coalesce((select p.label from marts.link_report_agency as l "
            f"join (values {regions.values_sql()}) as p(code, label) on p.code = left(l.province_code, 2) "
            f"where l.report_id = {report_id}), '{UNKNOWN}')")


def _rule_causes_sql() -> str:
    return ", ".join(f"('{rule}', '{cause}')" for rule, cause in RULE_CAUSE.items())


# --------------------------------------------------------------------------- reference


def reference(con: duckdb.DuckDBPyConnection) -> Reference:
    """The form's labels and layout from the reference seeds in the warehouse."""
    groups = {r["outcome_group"]: r for r in records(
        con, "select outcome_group, label_zh, label_en, cast(sort_order as integer) as sort_order "
             "from reference.ref_outcome_groups")}
    return Reference(
        application_rows=records(con, "select row_key, label_zh, label_en, row_group, row_variant, "
                                      "cast(sort_order as integer) as sort_order from reference.ref_application_rows"),
        outcome_groups=groups,
        applicant_types=records(con, "select applicant_type, label_zh, label_en, sort_order, is_total "
                                     "from marts.dim_applicant_type"),
        review_results=records(con, "select review_result, label_zh, label_en, sort_order, is_total "
                                    "from marts.dim_review_result"),
        proceedings=records(con, "select proceeding, label_zh, label_en, proceeding_kind, sort_order "
                                 "from marts.dim_proceeding"),
        proactive_fields=records(con, "select cast(template as varchar) as template, row_key, row_label_zh, field, "
                                      "field_label_zh, cast(sort_order as integer) as sort_order "
                                      "from reference.ref_proactive_fields"),
        template_cells={tuple(r) for r in con.execute(
            "select cast(template as varchar), table_name, row_variant, row_key, col_key "
            "from reference.ref_template_cells").fetchall()},
    )


# --------------------------------------------------------------------------- overview


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    # agencies: the bodies (agency_id) of the current reports that name one, not the names printed
    row = records(con, """
        select count(*) as reports,
               count(*) filter (where r.certified) as certified,
               count(*) filter (where not r.certified) as quarantined,
               count(distinct l.agency_id) filter (where r.agency is not null) as agencies,
               min(r.year) as first_year, max(r.year) as last_year
        from marts.dim_report r left join marts.link_report_agency l using (report_id)
        where r.is_current""")[0]
    row["superseded"] = con.execute("select count(*) from marts.dim_report where not is_current").fetchone()[0]
    row["parse_errors"] = con.execute("select count(*) from marts.parse_errors").fetchone()[0]
    issues = records(con, """
        select count(*) filter (where q.severity = 'blocking') as blocking,
               count(*) filter (where q.severity <> 'blocking') as warnings
        from marts.quality_issues q join marts.dim_report r using (report_id) where r.is_current""")[0]
    row.update(issues)
    return row


def reports_by(con: duckdb.DuckDBPyConnection, what: str) -> list[dict[str, Any]]:
    """Current reports by ``year``, ``template``, ``format`` or ``province``: certified and quarantined."""
    # (a report whose year was not found counts under UNKNOWN: it is quarantined, metadata_missing)
    expr = {"year": f"coalesce(cast(year as varchar), '{UNKNOWN}')", "template": "coalesce(template, '?')",
            "format": "coalesce(format, '?')",
            "province": province_sql("dim_report.report_id")}[what]
    return records(con, f"""
        select {expr} as key,
               count(*) filter (where certified) as certified,
               count(*) filter (where not certified) as quarantined,
               count(*) as reports
        from marts.dim_report where is_current
        group by all order by {'key' if what in ('year', 'template') else 'reports desc, key'}""")


def certified_by_table(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], str]:
    """Per table of the form, the share of current reports it certifies; and where the figure comes from.

    With ``dim_report.certified_<table>`` (coming), those columns. Until then: a report's
    table counts as certified when no blocking issue concerns that table (the rule's table,
    or for ``keys_present`` and the rules on one cell, the table its scope names).
    """
    have = columns(con, "marts", "dim_report")
    if all(f"certified_{t}" in have for t in FORM_TABLES):
        parts = " union all ".join(
            f"select '{t}' as table_name, count(*) filter (where certified_{t}) as certified, count(*) as reports "
            f"from marts.dim_report where is_current" for t in FORM_TABLES)
        return records(con, parts), "dim_report.certified_<table>"
    from expectations.rules import BY_NAME

    rule_tables = ", ".join(f"('{r.name}', '{r.table}')" for r in BY_NAME.values())
    rows = records(con, f"""
        with rule_tables(rule, rule_table) as (values {rule_tables}),
        broken as (
            select distinct q.report_id,
                   case when coalesce(t.rule_table, 'report') <> 'report' then t.rule_table
                        else split_part(q.scope, '.', 1) end as table_name
            from marts.quality_issues q
            left join rule_tables t using (rule)
            where q.severity = 'blocking'
        ),
        current as (select report_id from marts.dim_report where is_current),
        tables(table_name) as (values {", ".join(f"('{t}')" for t in FORM_TABLES)})
        select t.table_name,
               (select count(*) from current) - count(b.report_id) as certified,
               (select count(*) from current) as reports
        from tables t
        left join broken b on b.table_name = t.table_name and b.report_id in (select report_id from current)
        group by t.table_name""")
    return rows, "quality_issues (no blocking issue on the table)"


def quarantine_causes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Quarantined reports by cause (a report with two causes counts under each)."""
    return records(con, f"""
        with causes(rule, cause) as (values {_rule_causes_sql()})
        select coalesce(c.cause, 'other') as cause, count(distinct q.report_id) as reports
        from marts.quality_issues q
        join marts.dim_report r using (report_id)
        left join causes c using (rule)
        where q.severity = 'blocking' and r.is_current
        group by all order by reports desc""")


def issues_by_rule(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return records(con, """
        select q.rule, q.severity, count(*) as issues, count(distinct q.report_id) as reports
        from marts.quality_issues q join marts.dim_report r using (report_id)
        where r.is_current group by all order by reports desc, rule""")


def parse_error_kinds(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], str]:
    """Parse errors by kind: ``parse_errors.error_kind`` when it exists; until then the message
    with its numbers taken out and cut at its first parenthesis or colon (the parser's messages
    start with what went wrong: "table 3 not found (…)", "file is 250 MB, over …")."""
    if "error_kind" in columns(con, "marts", "parse_errors"):
        expr, source = "coalesce(error_kind, '?')", "parse_errors.error_kind"
    else:
        expr = ("trim(regexp_replace(regexp_replace(split_part(split_part(error, '(', 1), ':', 1), "
                "'[0-9]+(\\.[0-9]+)?', 'N', 'g'), '\\s+', ' ', 'g'))")
        source = "parse_errors.error (grouped by its wording)"
    return records(con, f"select {expr} as kind, count(*) as files from marts.parse_errors "
                        "group by all order by files desc, kind"), source


def recent_parse_errors(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict[str, Any]]:
    return records(con, "select source_file, format, error, parsed_at from marts.parse_errors "
                        "order by parsed_at desc, source_file limit ?", [limit])


# --------------------------------------------------------------------------- indicators


def indicator_histograms(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """Per indicator, agency-years per bin of 5 percentage points (a rate of 1 in the last bin)."""
    out = {}
    for ind in INDICATORS:
        out[ind] = records(con, f"""
            select least(floor({ind} * {RATE_BINS}), {RATE_BINS - 1}) / {RATE_BINS} as bin_start,
                   count(*) as agency_years
            from marts.agg_agency_year where {ind} is not null
            group by all order by bin_start""")
    return out


def indicator_spread(con: duckdb.DuckDBPyConnection, by: str) -> dict[str, list[dict[str, Any]]]:
    """Per indicator and ``year`` or ``province``: quantiles of the agency-years' rates and the pooled rate."""
    # the province of an agency-year is the region its report is linked to (agg_agency_year.province_code)
    group = "cast(a.year as varchar)" if by == "year" else f"coalesce(p.label, '{UNKNOWN}')"
    out = {}
    for ind, (num, den) in POOLED.items():
        out[ind] = records(con, f"""
            select * from (
            select {group} as key, count({ind}) as agency_years,
                   quantile_cont({ind}, 0.1) as p10, quantile_cont({ind}, 0.25) as q1,
                   quantile_cont({ind}, 0.5) as median, quantile_cont({ind}, 0.75) as q3,
                   quantile_cont({ind}, 0.9) as p90,
                   sum({_sum(num, 'a.')}) / nullif(sum(a.{den}), 0) as pooled
            from marts.agg_agency_year a
            left join (values {regions.values_sql()}) as p(code, label) on p.code = left(a.province_code, 2)
            where a.{ind} is not null
            group by all)
            order by {'key' if by == 'year' else f"key = '{UNKNOWN}', median desc, key"}""")
    return out


def indicator_summary(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = []
    for ind, (num, den) in POOLED.items():
        row = records(con, f"""
            select count({ind}) as agency_years, median({ind}) as median,
                   sum({_sum(num)}) / nullif(sum({den}), 0) as pooled
            from marts.agg_agency_year""")[0]
        rows.append({"indicator": ind, **row})
    return rows


def denial_reasons(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per year and reason of denial: denials for that reason per request handled (pooled), and the count."""
    reasons = records(con, "select outcome, label_zh, label_en from marts.dim_outcome "
                           "where outcome_group = 'denied' order by sort_order")
    have = columns(con, "marts", "agg_agency_year")
    reasons = [r for r in reasons if r["outcome"] in have]
    if not reasons:
        return []
    parts = " union all ".join(
        f"select cast(year as varchar) as year, '{r['outcome']}' as reason, sum({r['outcome']}) as denied, "
        f"sum(handled) as handled from marts.agg_agency_year group by year" for r in reasons)
    rows = records(con, f"select year, reason, denied, denied / nullif(handled, 0) as rate from ({parts}) "
                        "order by year, reason")
    labels = {r["outcome"]: r for r in reasons}
    for row in rows:
        label = labels[row["reason"]]
        row["label_zh"] = label["label_zh"].split(".", 1)[-1]
        row["label_en"] = label["label_en"].removeprefix("Denied: ")
    return rows


# --------------------------------------------------------------------------- quarantined reports


@dataclass
class ReportDetail:
    """One quarantined report: what dim_report and the inventory say, its issues and its cells."""

    report: dict[str, Any]
    issues: list[dict[str, Any]]
    cells: dict[str, Any]  # key -> forms.Cell
    warnings: list[str]


def quarantined_reports(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every current quarantined report, with its body (agency_id), province, raw copy, inbox path and
    rules broken."""
    return records(con, f"""
        with inv as (
            select report_id, any_value(raw_path) as raw_path, max(path) as inbox_path
            from staging.stg_inventory group by report_id
        ),
        rules as (
            select report_id, list(distinct rule order by rule) as rules
            from marts.quality_issues where severity = 'blocking' group by report_id
        )
        select r.report_id, r.source_file, r.agency, l.agency_id, r.year, r.template, r.format, r.published,
               r.index_number,
               r.division_code, {province_sql('r.report_id')} as province, r.parser_version, r.parsed_at,
               r.issue_count, r.blocking_issue_count, r.warning_count, coalesce(x.rules, []) as rules,
               inv.raw_path, inv.inbox_path, s.warnings_json
        from marts.dim_report r
        left join inv using (report_id)
        left join rules x using (report_id)
        left join staging.stg_reports s using (report_id)
        left join marts.link_report_agency l using (report_id)
        where r.is_current and not r.certified
        order by province, r.agency, r.year, r.source_file""")


def issues_of(con: duckdb.DuckDBPyConnection, report_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The quality issues of these reports (every severity), by report."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not report_ids:
        return out
    con.execute("create or replace temp table _wanted as select unnest(?::varchar[]) as report_id", [report_ids])
    for row in records(con, """
            select q.* from marts.quality_issues q join _wanted using (report_id)
            order by q.report_id, case q.severity when 'blocking' then 0 else 1 end, q.rule, q.scope"""):
        out.setdefault(row["report_id"], []).append(row)
    return out


def cells_of(con: duckdb.DuckDBPyConnection, report_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The cells of these reports, by report and key ``table.row.col`` (with ``status`` once it exists)."""
    from .forms import Cell

    out: dict[str, dict[str, Any]] = {}
    if not report_ids:
        return out
    status = "status" if "status" in columns(con, "staging", "stg_cells") else "null"
    con.execute("create or replace temp table _wanted as select unnest(?::varchar[]) as report_id", [report_ids])
    cur = con.execute(f"""
        select c.report_id, c.table_name || '.' || c.row_key || '.' || c.col_key, c.value, c.raw_token,
               c.source_position, {status}
        from staging.stg_cells c join _wanted using (report_id)""")
    while batch := cur.fetchmany(50_000):
        for report_id, key, value, raw, position, st in batch:
            out.setdefault(report_id, {})[key] = Cell(value, raw, position, st)
    return out


def warnings_list(warnings_json: str | None) -> list[str]:
    try:
        return [str(w) for w in json.loads(warnings_json or "[]")]
    except ValueError:
        return [warnings_json or ""]


# --------------------------------------------------------------------------- agencies


def agencies_with_issues(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Bodies (``agency_id``, marts.dim_agency) with at least one quality issue (any severity) on a
    current report that names its agency: the ones that get a page. ``agency`` is the body's
    name (dim_agency.agency_name, its latest), ``names`` every name it printed; the province is
    that of the body's region."""
    rows = records(con, f"""
        with flagged as (
            select distinct l.agency_id
            from marts.quality_issues q
            join marts.dim_report r using (report_id)
            join marts.link_report_agency l using (report_id)
            where r.is_current and r.agency is not null
        )
        select l.agency_id, any_value(g.agency_name) as agency, any_value(g.names) as names,
               any_value(coalesce(p.label, '{UNKNOWN}')) as province,
               count(*) as reports, count(*) filter (where not r.certified) as quarantined,
               min(r.year) as first_year, max(r.year) as last_year, sum(r.issue_count) as issues
        from marts.dim_report r
        join marts.link_report_agency l using (report_id)
        join flagged using (agency_id)
        join marts.dim_agency g using (agency_id)
        left join (values {regions.values_sql()}) as p(code, label) on p.code = left(g.province_code, 2)
        where r.is_current
        group by l.agency_id order by province, agency, l.agency_id""")
    for row in rows:
        row["key"] = agency_key(row["agency_id"])
    return rows


def agency_details(con: duckdb.DuckDBPyConnection, agency_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """For each body (``agency_id``): its current reports (with the name each printed), its indicator
    rows (marts.agg_agency_year, with which tables are certified), identity 5 per year and its issues."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {
        a: {"reports": [], "indicators": [], "carry": [], "issues": []} for a in agency_ids}
    if not agency_ids:
        return out
    con.execute("create or replace temp table _agencies as select unnest(?::varchar[]) as agency_id", [agency_ids])
    for row in records(con, """
            select l.agency_id, r.agency, r.report_id, r.source_file, r.year, r.template, r.format, r.certified,
                   r.certified_applications, r.certified_reviews, r.certified_proactive,
                   r.issue_count, r.blocking_issue_count, r.parsed_at
            from marts.dim_report r
            join marts.link_report_agency l using (report_id)
            join _agencies using (agency_id)
            where r.is_current
            order by l.agency_id, r.year, r.parsed_at"""):
        out[row["agency_id"]]["reports"].append(row)
    ind = ", ".join(f"a.{i}" for i in INDICATORS)
    for row in records(con, f"""
            select a.agency_id, a.agency, a.year, a.report_id, a.certified_applications, a.certified_reviews,
                   a.certified_proactive, a.handled, a.denied, a.reconsideration_total, a.litigation_total, {ind}
            from marts.agg_agency_year a join _agencies using (agency_id) order by a.agency_id, a.year"""):
        out[row["agency_id"]]["indicators"].append(row)
    # identity 5 across years: the printed total column's carried-over and carried-forward of the
    # body's report of each year, certified or not: the one identity 5 reads
    # (intermediate.int_agency_year_reports, rank 1: the latest parsed when it has several)
    for row in records(con, """
            with chosen as (
                select y.agency_id, y.year, y.report_id, y.agency, r.certified
                from intermediate.int_agency_year_reports y
                join _agencies using (agency_id)
                join marts.dim_report r using (report_id)
                where y.rank_in_year = 1
            )
            select c.agency_id, c.agency, c.year, c.report_id, c.certified, a.carried_over, a.carried_forward,
                   lag(a.carried_forward) over (partition by c.agency_id order by c.year) as prior_carried_forward,
                   lag(c.year) over (partition by c.agency_id order by c.year) as prior_year
            from chosen c
            left join intermediate.int_applications a on a.report_id = c.report_id and a.applicant_type = 'total'
            order by c.agency_id, c.year"""):
        out[row["agency_id"]]["carry"].append(row)
    for row in records(con, """
            select l.agency_id, r.agency, q.report_id, r.year, r.source_file, r.certified, q.rule, q.severity,
                   q.scope, q.expected, q.actual, q.residual, q.cells
            from marts.quality_issues q
            join marts.dim_report r on r.report_id = q.report_id
            join marts.link_report_agency l on l.report_id = q.report_id
            join _agencies g on g.agency_id = l.agency_id
            where r.is_current
            order by l.agency_id, r.year, case q.severity when 'blocking' then 0 else 1 end, q.rule, q.scope"""):
        out[row["agency_id"]]["issues"].append(row)
    return out
