-- For each report, the same agency's report for the previous year, where one exists.
-- Agencies are matched on their name as printed. When an agency has several reports for one
-- year, the best-ranked one (int_agency_year_reports: the most recently parsed, ties: the
-- greatest report_id) is used, so each report has at most one prior.
select
    cur.report_id,
    cur.agency,
    cur.year,
    cur.template,
    prior.report_id  as prior_report_id,
    prior.year       as prior_year,
    prior.template   as prior_template
from {{ ref('int_agency_year_reports') }} as cur
join {{ ref('int_agency_year_reports') }} as prior
  on prior.agency = cur.agency
 and prior.year = cur.year - 1
 and prior.rank_in_year = 1
