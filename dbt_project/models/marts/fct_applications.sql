{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Reports whose table 3 is certified (dim_report.certified_applications): every cell read, and
-- no blocking rule about it broken. Grain: report x applicant_type (including the printed total
-- column). Counts are whole numbers (BIGINT); blank cells stay NULL: coalesce to 0 where you sum.
select
    a.report_id,
    a.applicant_type,
    cast(a.new_received as bigint)     as new_received,
    cast(a.carried_over as bigint)     as carried_over,
    cast(a.total_handled as bigint)    as total_handled,
    cast(a.carried_forward as bigint)  as carried_forward
from {{ ref('int_applications') }} as a
join {{ ref('dim_report') }} as r
  on r.report_id = a.report_id
where r.certified_applications
  and r.is_current
  and {{ ogi_in_scope('a.report_id') }}
