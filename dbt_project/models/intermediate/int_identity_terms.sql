{{ config(**ogi_incremental('current_reports', dependents=true)) }}
-- The quality rules on the identity terms, one row per report x rule x scope: both sides, the
-- residual (lhs - rhs) and the cells that make each side. Each rule is a model of its own,
-- rules/rule_<name>.sql; ogi_term_rules() (macros/ogi_rules.sql, generated from
-- expectations/rules.py) lists them, and the seed ref_quality_rules gives each its severity.
-- Blank cells are read as 0. The Great Expectations gate reads this table and writes
-- quality_issues.parquet; nothing here decides certification by itself.
-- Incremental (macros/ogi_incremental.sql): a build recomputes the reports that changed and the
-- next year's reports of their agencies. ogi_in_scope() filters each rule on its own report
-- (report_id), never on the prior year's side of identity 5 and the stock rule.
with

terms as (
{%- for rule in ogi_term_rules() %}
    select report_id, rule, table_name, scope_kind, scope, lhs, rhs, cells
    from {{ ref('rule_' ~ rule) }}
    where {{ ogi_in_scope('report_id') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
),

rules as (
    select rule, severity from {{ ref('ref_quality_rules') }}
)

select
    t.report_id,
    t.rule,
    r.severity,
    t.table_name,
    t.scope_kind,
    t.scope,
    cast(t.lhs as double)          as lhs,
    cast(t.rhs as double)          as rhs,
    cast(t.lhs - t.rhs as double)  as residual,
    t.cells
from terms as t
left join rules as r
  on r.rule = t.rule
