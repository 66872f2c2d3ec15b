{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Reports whose table 4 is certified (dim_report.certified_reviews), whatever their table 3.
-- Grain: report x proceeding x result (upheld, corrected, other, pending), with the row's printed
-- total beside each count. Whole numbers; NULL = blank cell.
select
    v.report_id,
    v.proceeding,
    v.review_result,
    cast(v.count as bigint)          as count,
    cast(v.printed_total as bigint)  as printed_total
from {{ ref('int_reviews') }} as v
join {{ ref('dim_report') }} as r
  on r.report_id = v.report_id
where r.certified_reviews
  and r.is_current
  and {{ ogi_in_scope('v.report_id') }}
