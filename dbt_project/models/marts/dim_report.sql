-- One row per parsed report, certified or not. A table of a report is certified when every
-- cell of it was read (int_unread_tables; the gate says so too, rule cells_unread) and no
-- blocking rule about it is broken: a blocking
-- issue holds its table out of the certified facts (quality_issues.table_name; 'report', e.g.
-- metadata_missing, holds every table). certified = all three tables certified. A report stays
-- here and in staging whatever its certification; is_current = false for a version superseded in
-- the inbox (the same file dropped in again with other content): kept here, not judged, not in
-- the facts.
with issues as (
    select
        report_id,
        count(*)                                                                    as issue_count,
        count(case when severity = 'blocking' then 1 end)                           as blocking_issue_count,
        count(case when severity = 'blocking'
                    and table_name in ('applications', 'report') then 1 end)        as blocking_applications,
        count(case when severity = 'blocking'
                    and table_name in ('reviews', 'report') then 1 end)             as blocking_reviews,
        count(case when severity = 'blocking'
                    and table_name in ('proactive', 'report') then 1 end)           as blocking_proactive
    from {{ ref('stg_quality_issues') }}
    group by report_id
),

-- the unread cells by table: a table with one is never certified, whatever the gate's file says
unread as (
    select
        report_id,
        sum(n_unread)                                                as unread_cell_count,
        count(case when table_name = 'applications' then 1 end)     as unread_applications,
        count(case when table_name = 'reviews' then 1 end)          as unread_reviews,
        count(case when table_name = 'proactive' then 1 end)        as unread_proactive
    from {{ ref('int_unread_tables') }}
    group by report_id
),

reports as (
    select
        r.*,
        r.report_id in (select cur.report_id from {{ ref('int_current_reports') }} as cur)  as is_current,
        coalesce(i.issue_count, 0)                   as issue_count,
        coalesce(i.blocking_issue_count, 0)          as blocking_issue_count,
        coalesce(i.blocking_applications, 0) = 0 and coalesce(u.unread_applications, 0) = 0
                                                     as certified_applications,
        coalesce(i.blocking_reviews, 0) = 0 and coalesce(u.unread_reviews, 0) = 0
                                                     as certified_reviews,
        coalesce(i.blocking_proactive, 0) = 0 and coalesce(u.unread_proactive, 0) = 0
                                                     as certified_proactive,
        cast(coalesce(u.unread_cell_count, 0) as bigint)  as unread_cell_count
    from {{ ref('stg_reports') }} as r
    left join issues as i
      on i.report_id = r.report_id
    left join unread as u
      on u.report_id = r.report_id
)

select
    report_id,
    source_file,
    format,
    agency,
    year,
    template,
    published,
    index_number,
    division_code,
    year_source,
    agency_source,
    parser_version,
    parsed_at,
    warning_count,
    unread_cell_count,
    is_current,
    certified_applications and certified_reviews and certified_proactive  as certified,
    certified_applications,
    certified_reviews,
    certified_proactive,
    issue_count,
    blocking_issue_count
from reports
