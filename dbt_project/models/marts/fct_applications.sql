{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Certified reports only. Grain: report x applicant_type (including the printed total column).
-- Blank cells stay NULL; coalesce to 0 where you sum.
select
    a.report_id,
    a.applicant_type,
    a.new_received,
    a.carried_over,
    a.total_handled,
    a.carried_forward
from {{ ref('int_applications') }} as a
join {{ ref('dim_report') }} as r
  on r.report_id = a.report_id
where r.certified
  and r.is_current
  and {{ ogi_in_scope('a.report_id') }}
