-- Identity 5, per applicant column, across years (blank read as 0): carried_over of a report =
-- carried_forward of the same agency's report for the previous year, where that report exists
-- (int_report_prior_year). report_id is the later report; the prior year's side is read whole.
-- Not judged when either report's table 3 has unread cells.
select
    cur.report_id,
    'identity_5_carry_over' as rule,
    'applications'          as table_name,
    'column'                as scope_kind,
    cur.applicant_type      as scope,
    coalesce(cur.carried_over, 0)    as lhs,
    coalesce(prv.carried_forward, 0) as rhs,
    'applications.carried_over.' || cur.applicant_type
        || ' = applications.carried_forward.' || cur.applicant_type
        || ' of the ' || cast(p.prior_year as varchar) || ' report ' || p.prior_report_id  as cells
from {{ ref('int_applications') }} as cur
join {{ ref('int_report_prior_year') }} as p
  on p.report_id = cur.report_id
join {{ ref('int_applications') }} as prv
  on prv.report_id = p.prior_report_id
 and prv.applicant_type = cur.applicant_type
where cur.report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'applications'
)
  and prv.report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'applications'
)
