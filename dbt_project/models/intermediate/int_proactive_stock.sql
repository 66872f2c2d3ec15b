{{ config(**ogi_incremental('current_reports')) }}
-- Table 2 stock rows (ref_stock_rows: the rows of a form whose stock carries over from year to
-- year), one row per report x stock row of the report's form that the report has cells in:
-- the stock, added and removed fields' values (NULL for blank) and the number of those cells.
-- Feeds the stock rule: stock(Y) = stock(Y-1) + added(Y) - removed(Y).
-- A table, incremental (macros/ogi_incremental.sql): the stock rule reads it for the reports
-- in scope and for their prior years, and an incremental build recomputes the changed reports only.
select
    c.report_id,
    s.template,
    s.row_key,
    s.stock_field,
    s.added_field,
    s.removed_field,
    sum(case when c.col_key = s.stock_field then c.value end)    as stock,
    sum(case when c.col_key = s.added_field then c.value end)    as added,
    sum(case when c.col_key = s.removed_field then c.value end)  as removed,
    count(*)                                                     as n_cells
from {{ ref('int_current_cells') }} as c
join {{ ref('int_current_reports') }} as r
  on r.report_id = c.report_id
join {{ ref('ref_stock_rows') }} as s
  on s.template = r.template
 and s.row_key = c.row_key
where c.table_name = 'proactive'
  and {{ ogi_in_scope('c.report_id') }}
  and c.col_key in (s.stock_field, s.added_field, s.removed_field)
group by c.report_id, s.template, s.row_key, s.stock_field, s.added_field, s.removed_field
