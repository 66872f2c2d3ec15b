{{ config(severity='warn') }}
-- Cross-check of the gate, from the marts alone: certified reports satisfy identities 1, 2 and 4
-- (blank read as 0). A warning, not an error: the gate decides certification; this flags drift
-- between the gate and int_identity_terms (or a build run without the gate).
with apps as (
    select * from {{ ref('fct_applications') }}
),

outcome_sums as (
    select report_id, applicant_type, sum(coalesce(count, 0)) as outcomes
    from {{ ref('fct_outcomes') }}
    group by report_id, applicant_type
),

review_rows as (
    select report_id, proceeding,
           coalesce(max(printed_total), 0) as printed_total,
           sum(coalesce(count, 0))         as parts
    from {{ ref('fct_reviews') }}
    group by report_id, proceeding
)

select a.report_id, 'identity_1_balance' as rule, a.applicant_type as scope
from apps as a
where coalesce(a.new_received, 0) + coalesce(a.carried_over, 0)
   <> coalesce(a.total_handled, 0) + coalesce(a.carried_forward, 0)

union all
select a.report_id, 'identity_2_outcomes' as rule, a.applicant_type as scope
from apps as a
left join outcome_sums as o
  on o.report_id = a.report_id
 and o.applicant_type = a.applicant_type
where coalesce(a.total_handled, 0) <> coalesce(o.outcomes, 0)

union all
select report_id, 'identity_4_reviews' as rule, proceeding as scope
from review_rows
where printed_total <> parts
