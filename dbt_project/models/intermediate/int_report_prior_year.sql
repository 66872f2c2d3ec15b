-- For each report, the same agency's report for the previous year, where one exists.
-- Agencies are matched on their name as printed. When an agency has several reports for one
-- year (the same report ingested as PDF and text, say), the most recently parsed one is used
-- (ties: the greatest report_id), so each report has at most one prior.
with ranked as (
    select
        report_id,
        agency,
        year,
        template,
        row_number() over (
            partition by agency, year
            order by parsed_at desc nulls last, report_id desc
        ) as rank_in_year
    from {{ ref('int_current_reports') }}
    where agency is not null
      and year is not null
)
select
    cur.report_id,
    cur.agency,
    cur.year,
    cur.template,
    prior.report_id  as prior_report_id,
    prior.year       as prior_year,
    prior.template   as prior_template
from {{ ref('int_current_reports') }} as cur
join ranked as prior
  on prior.agency = cur.agency
 and prior.year = cur.year - 1
 and prior.rank_in_year = 1
