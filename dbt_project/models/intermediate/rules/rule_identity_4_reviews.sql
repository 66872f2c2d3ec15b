-- Identity 4, per row of table 4 (blank read as 0): total = upheld + corrected + other + pending.
-- Not judged for a table 4 with unread cells.
{%- set review_terms = [] %}
{%- for c in ogi_review_parts() %}{% do review_terms.append("reviews.' || row_key || '." ~ c) %}{% endfor %}
select
    report_id,
    'identity_4_reviews'  as rule,
    'reviews'             as table_name,
    'row'                 as scope_kind,
    row_key               as scope,
    coalesce(printed_total, 0)  as lhs,
    parts_sum                   as rhs,
    'reviews.' || row_key || '.total = {{ review_terms | join(" + ") }}' as cells  -- noqa: LT05
from {{ ref('int_row_totals') }}
where table_name = 'reviews'
  and report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'reviews'
)
