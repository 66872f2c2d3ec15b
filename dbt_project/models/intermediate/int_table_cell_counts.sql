{{ config(**ogi_incremental('current_reports')) }}
-- Per report x table (the tables the report has cells in): the cells whose key the report's
-- template knows (ref_template_cells) and the cells of the three other_* rows (row (六) printed
-- as three rows). The keys_present rule compares them with what the template requires.
-- A table of its own, incremental (macros/ogi_incremental.sql), so that an incremental build of
-- int_identity_terms counts the cells of the reports in scope only.
with valid_keys as (
    select distinct template, table_name, row_key, col_key
    from {{ ref('ref_template_cells') }}
)

select
    c.report_id,
    c.table_name,
    count(v.row_key) as n_valid_cells,
    count(case when c.row_key in ({{ ogi_in_list(ogi_split_other_rows()) }}) then 1 end) as n_split_cells
from {{ ref('int_current_cells') }} as c
join {{ ref('int_current_reports') }} as r
  on r.report_id = c.report_id
left join valid_keys as v
  on v.template = r.template
 and v.table_name = c.table_name
 and v.row_key = c.row_key
 and v.col_key = c.col_key
where {{ ogi_in_scope('c.report_id') }}
group by c.report_id, c.table_name
