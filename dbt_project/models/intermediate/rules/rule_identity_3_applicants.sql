-- Identity 3, per row of table 3 (blank read as 0): the total column = the six applicant columns.
-- Not judged for a table 3 with unread cells.
{%- set applicant_terms = [] %}
{%- for c in ogi_applicant_parts() %}{% do applicant_terms.append("applications.' || row_key || '." ~ c) %}{% endfor %}
select
    report_id,
    'identity_3_applicants' as rule,
    'applications'          as table_name,
    'row'                   as scope_kind,
    row_key                 as scope,
    coalesce(printed_total, 0)  as lhs,
    parts_sum                   as rhs,
    'applications.' || row_key || '.total = {{ applicant_terms | join(" + ") }}' as cells  -- noqa: LT05
from {{ ref('int_row_totals') }}
where table_name = 'applications'
  and report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'applications'
)
