{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Certified reports only. Grain: report x applicant_type x outcome. count is NULL for a blank cell.
select
    o.report_id,
    o.applicant_type,
    o.outcome,
    o.count
from {{ ref('int_outcomes') }} as o
join {{ ref('dim_report') }} as r
  on r.report_id = o.report_id
where r.certified
  and r.is_current
  and {{ ogi_in_scope('o.report_id') }}
