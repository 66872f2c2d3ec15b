-- For each report, the same body's report for the previous year, where one exists: the body is
-- agency_id (int_report_agency: linked across name variants, 洪泽区人民政府 in 2023 and
-- 淮安市洪泽区人民政府 in 2024), not the printed name. When a body has several reports for one
-- year, the best-ranked one (int_agency_year_reports: the most recently parsed, ties: the
-- greatest report_id) is used, so each report has at most one prior.
select
    cur.report_id,
    cur.agency,
    cur.agency_id,
    cur.year,
    cur.template,
    prev.report_id  as prior_report_id,
    prev.agency     as prior_agency,
    prev.year       as prior_year,
    prev.template   as prior_template
from {{ ref('int_agency_year_reports') }} as cur
join {{ ref('int_agency_year_reports') }} as prev
  on prev.agency_id = cur.agency_id
 and prev.year = cur.year - 1
 and prev.rank_in_year = 1
