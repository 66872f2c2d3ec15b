-- One row per parsed report, certified or not. certified = the quality gate found no blocking
-- issue; a quarantined report stays here (certified = false) and in staging, and is held out
-- of the fct_* and agg_* marts. is_current = false for a version superseded in the inbox (the
-- same file dropped in again with other content): kept here, not judged, not in the facts.
with issues as (
    select
        report_id,
        count(*)                                                as issue_count,
        count(case when severity = 'blocking' then 1 end)       as blocking_issue_count
    from {{ ref('stg_quality_issues') }}
    group by report_id
)

select
    r.report_id,
    r.source_file,
    r.format,
    r.agency,
    r.year,
    r.template,
    r.published,
    r.index_number,
    r.division_code,
    r.parser_version,
    r.parsed_at,
    r.warning_count,
    r.report_id in (select report_id from {{ ref('int_current_reports') }})  as is_current,
    coalesce(i.blocking_issue_count, 0) = 0   as certified,
    coalesce(i.issue_count, 0)                as issue_count,
    coalesce(i.blocking_issue_count, 0)       as blocking_issue_count
from {{ ref('stg_reports') }} as r
left join issues as i
  on i.report_id = r.report_id
