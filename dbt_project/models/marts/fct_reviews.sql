{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Certified reports only. Grain: report x proceeding x result (upheld, corrected, other, pending),
-- with the row's printed total beside each count. NULL = blank cell.
select
    v.report_id,
    v.proceeding,
    v.review_result,
    v.count,
    v.printed_total
from {{ ref('int_reviews') }} as v
join {{ ref('dim_report') }} as r
  on r.report_id = v.report_id
where r.certified
  and r.is_current
  and {{ ogi_in_scope('v.report_id') }}
