{{ config(**ogi_incremental('current_reports')) }}
-- depends_on: {{ ref('int_current_reports') }}
-- Table 3 pivoted to report x applicant_type (one pass of conditional aggregation over the
-- long cells; no join per row key). The four application rows keep NULL for blank.
-- outcome_rows_sum reads blank as 0: it is the right-hand side of identity 2.
-- Incremental (macros/ogi_incremental.sql): a build recomputes only the reports that changed.
{%- set non_outcome = ogi_in_list(ogi_non_outcome_rows()) %}
select
    report_id,
    col_key                                                                    as applicant_type,
    sum(case when row_key = 'new_received' then value end)                     as new_received,
    sum(case when row_key = 'carried_over' then value end)                     as carried_over,
    sum(case when row_key = 'total' then value end)                            as total_handled,
    sum(case when row_key = 'carried_forward' then value end)                  as carried_forward,
    sum(case when row_key not in ({{ non_outcome }}) then coalesce(value, 0) else 0 end)
                                                                               as outcome_rows_sum,
    count(case when row_key not in ({{ non_outcome }}) then 1 end)             as outcome_rows_present,
    count(case when row_key in ({{ ogi_in_list(ogi_split_other_rows()) }}) then 1 end)
                                                                               as split_other_rows_present
from {{ ref('int_current_cells') }}
where table_name = 'applications'
  and {{ ogi_in_scope('report_id') }}
group by report_id, col_key
