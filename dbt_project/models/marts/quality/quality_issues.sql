-- The quality gate's findings with the report they concern. Every rule, blocking or warning.
select
    q.report_id,
    r.source_file,
    r.agency,
    r.year,
    q.rule,
    q.severity,
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
