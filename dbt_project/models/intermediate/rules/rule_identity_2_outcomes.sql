-- Identity 2, per applicant column of table 3 (blank read as 0):
-- total = the sum of every outcome row (granted ... other, or the three other_* rows when the
-- report prints row (六) as three rows). Not judged for a table 3 with unread cells.
{#- the right-hand side written once per row (六) variant, with {c} for the column -#}
{%- set outcome_terms = {} %}
{%- for variant in ogi_row_variants() %}
    {%- set terms = [] %}
    {%- for r in ogi_outcome_rows(variant) %}{% do terms.append('applications.' ~ r ~ '.{c}') %}{% endfor %}
    {%- do outcome_terms.update({variant: terms | join(' + ')}) %}
{%- endfor %}
select
    report_id,
    'identity_2_outcomes' as rule,
    'applications'        as table_name,
    'column'              as scope_kind,
    applicant_type        as scope,
    coalesce(total_handled, 0)  as lhs,
    outcome_rows_sum            as rhs,
    'applications.total.' || applicant_type || ' = '
        || case
               when split_other_rows_present > 0
                   then replace('{{ outcome_terms["split"] }}', '{c}', applicant_type)
               else replace('{{ outcome_terms["single"] }}', '{c}', applicant_type)
           end                                                   as cells
from {{ ref('int_applications') }}
where report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'applications'
)
