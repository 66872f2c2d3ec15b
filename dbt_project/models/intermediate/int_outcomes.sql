-- Table 3 outcome rows, report x applicant_type x outcome (the long cells, filtered).
-- count is NULL where the source cell is blank.
select
    report_id,
    col_key   as applicant_type,
    row_key   as outcome,
    value     as count
from {{ ref('int_current_cells') }}
where table_name = 'applications'
  and row_key not in ({{ ogi_in_list(ogi_non_outcome_rows()) }})
