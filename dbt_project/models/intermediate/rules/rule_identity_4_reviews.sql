-- Identity 4, per row of table 4 (blank read as 0): total = upheld + corrected + other + pending.
{%- set review_terms = [] %}
{%- for c in ogi_review_parts() %}{% do review_terms.append("reviews.' || row_key || '." ~ c) %}{% endfor %}
select
    report_id,
    'identity_4_reviews'  as rule,
    'row'                 as scope_kind,
    row_key               as scope,
    coalesce(printed_total, 0)  as lhs,
    parts_sum                   as rhs,
    'reviews.' || row_key || '.total = {{ review_terms | join(" + ") }}' as cells
from {{ ref('int_row_totals') }}
where table_name = 'reviews'
