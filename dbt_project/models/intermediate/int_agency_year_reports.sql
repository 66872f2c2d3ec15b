{{ config(materialized='table') }}
-- Each current report with a year, ranked within its agency-year: agency_id (int_report_agency:
-- one body across years and name variants, not the printed name), the most recently parsed
-- first (ties: the greatest report_id). An agency-year has several reports when the same report
-- was ingested twice (as PDF and as text, say). int_report_prior_year takes rank 1 as the prior
-- year's report; agg_agency_year, of the reports with a certified table, the one with the most
-- certified tables, then the best-ranked.
-- A table (rebuilt on every run): identity 5, the stock rule and agg_agency_year read it.
select
    report_id,
    agency,
    agency_id,
    year,
    template,
    parsed_at,
    row_number() over (
        partition by agency_id, year
        order by parsed_at desc nulls last, report_id desc
    ) as rank_in_year
from {{ ref('int_current_reports') }}
where agency is not null
  and year is not null
