-- No fact or aggregate row comes from a report that is not certified.
with certified as (
    select report_id from {{ ref('dim_report') }} where certified
),
fact_reports as (
    select distinct report_id, 'fct_applications' as model from {{ ref('fct_applications') }}
    union all
    select distinct report_id, 'fct_outcomes' from {{ ref('fct_outcomes') }}
    union all
    select distinct report_id, 'fct_reviews' from {{ ref('fct_reviews') }}
    union all
    select distinct report_id, 'agg_agency_year' from {{ ref('agg_agency_year') }}
)
select f.*
from fact_reports as f
left join certified as c
  on c.report_id = f.report_id
where c.report_id is null
