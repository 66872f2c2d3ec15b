-- No fact row comes from a table that is not certified: table 3 facts from reports whose table 3
-- is certified, table 4 facts from table 4, table 2 facts from table 2; and no measure of
-- agg_agency_year comes from a table that is not certified (its group is NULL there).
with reports as (
    select * from {{ ref('dim_report') }}
),

fact_tables as (
    select distinct report_id, 'fct_applications' as model, 'applications' as table_name
    from {{ ref('fct_applications') }}
    union all
    select distinct report_id, 'fct_outcomes' as model, 'applications' as table_name from {{ ref('fct_outcomes') }}
    union all
    select distinct report_id, 'fct_reviews' as model, 'reviews' as table_name from {{ ref('fct_reviews') }}
    union all
    select distinct report_id, 'fct_proactive' as model, 'proactive' as table_name from {{ ref('fct_proactive') }}
    union all
    select report_id, 'agg_agency_year' as model, 'applications' as table_name from {{ ref('agg_agency_year') }}
    where handled is not null
    union all
    select report_id, 'agg_agency_year' as model, 'reviews' as table_name from {{ ref('agg_agency_year') }}
    where reconsideration_total is not null
    union all
    select report_id, 'agg_agency_year' as model, 'proactive' as table_name from {{ ref('agg_agency_year') }}
    where regulations_issued is not null
)

select f.*
from fact_tables as f
left join reports as r
  on r.report_id = f.report_id
where r.report_id is null
   or not r.is_current
   or (f.table_name = 'applications' and not r.certified_applications)
   or (f.table_name = 'reviews' and not r.certified_reviews)
   or (f.table_name = 'proactive' and not r.certified_proactive)
