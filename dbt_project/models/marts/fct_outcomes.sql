{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Reports whose table 3 is certified (dim_report.certified_applications). Grain: report x
-- applicant_type x outcome. count is a whole number, NULL for a blank cell.
select
    o.report_id,
    o.applicant_type,
    o.outcome,
    cast(o.count as bigint) as count
from {{ ref('int_outcomes') }} as o
join {{ ref('dim_report') }} as r
  on r.report_id = o.report_id
where r.certified_applications
  and r.is_current
  and {{ ogi_in_scope('o.report_id') }}
