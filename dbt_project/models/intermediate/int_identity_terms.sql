{{ config(**ogi_incremental('current_reports', dependents=true)) }}
-- The accounting identities (勾稽关系) and the completeness rules, one row per
-- report x rule x scope: both sides, the residual (lhs - rhs) and the cells that make each side.
-- Blank cells are read as 0 here. The Great Expectations gate reads this table and writes
-- quality_issues.parquet; nothing here decides certification by itself.
-- Incremental (macros/ogi_incremental.sql): a build recomputes the reports that changed and the
-- next year's reports of their agencies; ogi_in_scope() marks where a row's own report is read
-- (never the prior year's side of identity 5 and the stock rule).
{%- set applicant_parts = ogi_applicant_parts() %}
{%- set review_parts = ogi_review_parts() %}

{#- identity 2's right-hand side, written once per row (六) variant with {c} for the column -#}
{%- set outcome_terms = {} %}
{%- for variant in ['single', 'split'] %}
    {%- set terms = [] %}
    {%- for r in ogi_outcome_rows(variant) %}{% do terms.append('applications.' ~ r ~ '.{c}') %}{% endfor %}
    {%- do outcome_terms.update({variant: terms | join(' + ')}) %}
{%- endfor %}

{%- set applicant_terms = [] %}
{%- for c in applicant_parts %}{% do applicant_terms.append("applications.' || row_key || '." ~ c) %}{% endfor %}
{%- set review_terms = [] %}
{%- for c in review_parts %}{% do review_terms.append("reviews.' || row_key || '." ~ c) %}{% endfor %}

with

applications as (
    select * from {{ ref('int_applications') }}
),

row_totals as (
    select * from {{ ref('int_row_totals') }}
    where {{ ogi_in_scope('report_id') }}
),

reports as (
    select * from {{ ref('int_current_reports') }}
    where {{ ogi_in_scope('report_id') }}
),

-- 1. new_received + carried_over = total + carried_forward, per column
identity_1 as (
    select
        report_id,
        'identity_1_balance'  as rule,
        'blocking'            as severity,
        'column'              as scope_kind,
        applicant_type        as scope,
        coalesce(new_received, 0) + coalesce(carried_over, 0)       as lhs,
        coalesce(total_handled, 0) + coalesce(carried_forward, 0)   as rhs,
        'applications.new_received.' || applicant_type
            || ' + applications.carried_over.' || applicant_type
            || ' = applications.total.' || applicant_type
            || ' + applications.carried_forward.' || applicant_type  as cells
    from applications
    where {{ ogi_in_scope('report_id') }}
),

-- 2. total = sum of every outcome row (granted ... other / other_*), per column
identity_2 as (
    select
        report_id,
        'identity_2_outcomes' as rule,
        'blocking'            as severity,
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
    from applications
    where {{ ogi_in_scope('report_id') }}
),

-- 3. per table-3 row: total column = the six applicant columns
identity_3 as (
    select
        report_id,
        'identity_3_applicants' as rule,
        'blocking'              as severity,
        'row'                   as scope_kind,
        row_key                 as scope,
        coalesce(printed_total, 0)  as lhs,
        parts_sum                   as rhs,
        'applications.' || row_key || '.total = {{ applicant_terms | join(" + ") }}' as cells
    from row_totals
    where table_name = 'applications'
),

-- 4. per table-4 row: total = upheld + corrected + other + pending
identity_4 as (
    select
        report_id,
        'identity_4_reviews'  as rule,
        'blocking'            as severity,
        'row'                 as scope_kind,
        row_key               as scope,
        coalesce(printed_total, 0)  as lhs,
        parts_sum                   as rhs,
        'reviews.' || row_key || '.total = {{ review_terms | join(" + ") }}' as cells
    from row_totals
    where table_name = 'reviews'
),

-- keys_present: the cells a report has in each table against the cells its template requires.
-- lhs counts only cells whose key the template knows (a stray key cannot make up for a
-- missing one); table 3 is held to the row (六) variant the report prints (three rows if any
-- other_* row is there, else the single row).
template_cells as (
    select * from {{ ref('ref_template_cells') }}
),

valid_keys as (
    select distinct template, table_name, row_key, col_key
    from template_cells
),

required as (
    select template, table_name, row_variant, count(*) as n_required
    from template_cells
    group by template, table_name, row_variant
),

cell_counts as (
    select
        c.report_id,
        c.table_name,
        count(v.row_key) as n_valid_cells,
        count(case when c.row_key in ({{ ogi_in_list(ogi_split_other_rows()) }}) then 1 end) as n_split_cells
    from {{ ref('int_current_cells') }} as c
    join reports as r
      on r.report_id = c.report_id
    left join valid_keys as v
      on v.template = r.template
     and v.table_name = c.table_name
     and v.row_key = c.row_key
     and v.col_key = c.col_key
    group by c.report_id, c.table_name
),

report_tables as (
    select
        r.report_id,
        r.template,
        t.table_name,
        coalesce(cc.n_valid_cells, 0) as n_valid_cells,
        case
            when t.table_name <> 'applications' then 'any'
            when coalesce(cc.n_split_cells, 0) > 0 then 'split'
            else 'single'
        end as row_variant
    from reports as r
    cross join (select distinct table_name from template_cells) as t
    left join cell_counts as cc
      on cc.report_id = r.report_id
     and cc.table_name = t.table_name
),

keys_checked as (
    select
        rt.report_id,
        rt.template,
        rt.table_name,
        rt.row_variant,
        rt.n_valid_cells,
        coalesce(rq.n_required, 0) as n_required
    from report_tables as rt
    left join required as rq
      on rq.template = rt.template
     and rq.table_name = rt.table_name
     and rq.row_variant = rt.row_variant
),

failing as (
    select distinct report_id
    from keys_checked
    where n_valid_cells <> n_required
),

-- the cells of failing reports only: one cheap semi-join instead of a 4-key join over all cells
failing_cells as (
    select c.report_id, c.table_name, c.row_key, c.col_key
    from {{ ref('int_current_cells') }} as c
    where c.report_id in (select report_id from failing)
),

-- for the failing report-tables only: which required cells are missing, by row
missing_rows as (
    select
        k.report_id,
        k.table_name,
        tc.row_key,
        min(tc.col_key) as first_col,
        count(*)        as n_missing
    from keys_checked as k
    join template_cells as tc
      on tc.template = k.template
     and tc.table_name = k.table_name
     and tc.row_variant = k.row_variant
    left join failing_cells as c
      on c.report_id = k.report_id
     and c.table_name = tc.table_name
     and c.row_key = tc.row_key
     and c.col_key = tc.col_key
    where k.n_valid_cells <> k.n_required
      and c.report_id is null
    group by k.report_id, k.table_name, tc.row_key
),

missing_text as (
    select
        report_id,
        table_name,
        {{ listagg("row_key || ' (' || cast(n_missing as varchar) || ')'", "', '", "order by row_key") }} as missing
    from missing_rows
    group by report_id, table_name
),

keys_present as (
    select
        k.report_id,
        'keys_present'  as rule,
        'blocking'      as severity,
        'report'        as scope_kind,
        k.table_name    as scope,
        cast(k.n_valid_cells as double)  as lhs,
        cast(k.n_required as double)     as rhs,
        'cells in ' || k.table_name || ' with a key of template ' || k.template
            || case k.row_variant
                   when 'single' then ' (row (六) as one row)'
                   when 'split' then ' (row (六) as three rows)'
                   else ''
               end
            || ' = cells the template requires'
            || coalesce('; missing cells by row: ' || m.missing, '')  as cells
    from keys_checked as k
    left join missing_text as m
      on m.report_id = k.report_id
     and m.table_name = k.table_name
),

prior as (
    select * from {{ ref('int_report_prior_year') }}
),

-- 5. carried_over(Y) = carried_forward(Y-1), same agency, where the prior year's report exists
identity_5 as (
    select
        cur.report_id,
        'identity_5_carry_over' as rule,
        'warning'               as severity,
        'column'                as scope_kind,
        cur.applicant_type      as scope,
        coalesce(cur.carried_over, 0)   as lhs,
        coalesce(prv.carried_forward, 0) as rhs,
        'applications.carried_over.' || cur.applicant_type
            || ' = applications.carried_forward.' || cur.applicant_type
            || ' of the ' || cast(p.prior_year as varchar) || ' report ' || p.prior_report_id  as cells
    from applications as cur
    join prior as p
      on p.report_id = cur.report_id
    join applications as prv
      on prv.report_id = p.prior_report_id
     and prv.applicant_type = cur.applicant_type
    where {{ ogi_in_scope('cur.report_id') }}
),

stock as (
    select * from {{ ref('int_proactive_stock') }}
),

-- stock rule (2021 form): in_force(Y) = in_force(Y-1) + issued(Y) - abolished(Y), for
-- regulations and normative_documents, when both years use the 2021 form
stock_pairs as (
    select
        cur.*,
        p.prior_year,
        p.prior_report_id,
        prv.regulations_in_force          as prior_regulations_in_force,
        prv.normative_documents_in_force  as prior_normative_documents_in_force,
        prv.regulations_cells             as prior_regulations_cells,
        prv.normative_documents_cells     as prior_normative_documents_cells
    from stock as cur
    join prior as p
      on p.report_id = cur.report_id
     and p.template = '2021'
     and p.prior_template = '2021'
    join stock as prv
      on prv.report_id = p.prior_report_id
    where {{ ogi_in_scope('cur.report_id') }}
),

stock_rule as (
{%- for row in ['regulations', 'normative_documents'] %}
    select
        report_id,
        'stock_rule'      as rule,
        'warning'         as severity,
        'row'             as scope_kind,
        '{{ row }}'       as scope,
        coalesce({{ row }}_in_force, 0) as lhs,
        coalesce(prior_{{ row }}_in_force, 0) + coalesce({{ row }}_issued, 0) - coalesce({{ row }}_abolished, 0) as rhs,
        'proactive.{{ row }}.in_force = proactive.{{ row }}.in_force of the '
            || cast(prior_year as varchar) || ' report ' || prior_report_id
            || ' + proactive.{{ row }}.issued - proactive.{{ row }}.abolished' as cells
    from stock_pairs
    where {{ row }}_cells > 0
      and prior_{{ row }}_cells > 0
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
),

-- the template the report uses against the one its year calls for (2019 up to 2020, 2021 after)
template_year as (
    select
        report_id,
        'template_year' as rule,
        'warning'       as severity,
        'report'        as scope_kind,
        'template'      as scope,
        cast(template as double) as lhs,
        case when year <= 2020 then 2019.0 else 2021.0 end as rhs,
        'template ' || template || ' = template for year ' || cast(year as varchar) as cells
    from reports
    where year is not null
      and template in ('2019', '2021')
),

unioned as (
    select * from identity_1
    union all select * from identity_2
    union all select * from identity_3
    union all select * from identity_4
    union all select * from keys_present
    union all select * from identity_5
    union all select * from stock_rule
    union all select * from template_year
)

select
    report_id,
    rule,
    severity,
    scope_kind,
    scope,
    cast(lhs as double)        as lhs,
    cast(rhs as double)        as rhs,
    cast(lhs - rhs as double)  as residual,
    cells
from unioned
