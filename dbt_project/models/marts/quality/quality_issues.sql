-- The quality gate's findings with the report they concern. Every rule, blocking or warning, the
-- table each issue holds out of the certified marts (report: every table), and whom it blames
-- (cause: the report's own numbers, the parser, or missing metadata).
select
    q.report_id,
    r.source_file,
    r.agency,
    r.year,
    q.rule,
    q.severity,
    rr.cause,
    q.table_name,
    q.scope_kind,
    q.scope,
    q.expected,
    q.actual,
    q.residual,
    q.cells,
    q.checked_at
from {{ ref('stg_quality_issues') }} as q
left join {{ ref('stg_reports') }} as r
  on r.report_id = q.report_id
left join {{ ref('ref_quality_rules') }} as rr
  on rr.rule = q.rule
