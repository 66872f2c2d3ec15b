-- The stock rule, per stock row of table 2 (ref_stock_rows), across years (blank read as 0):
-- stock of a report = stock of the same agency's report for the previous year + added - removed,
-- e.g. in_force = prior in_force + issued - abolished. It applies where both reports' forms have
-- the stock row and both reports have cells in it (int_proactive_stock holds only those).
-- report_id is the later report; the prior year's side is read whole. Not judged when either
-- report's table 2 has unread cells.
select
    cur.report_id,
    'stock_rule'  as rule,
    'proactive'   as table_name,
    'row'         as scope_kind,
    cur.row_key   as scope,
    coalesce(cur.stock, 0) as lhs,
    coalesce(prv.stock, 0) + coalesce(cur.added, 0) - coalesce(cur.removed, 0) as rhs,
    'proactive.' || cur.row_key || '.' || cur.stock_field
        || ' = proactive.' || prv.row_key || '.' || prv.stock_field
        || ' of the ' || cast(p.prior_year as varchar) || ' report ' || p.prior_report_id
        || ' + proactive.' || cur.row_key || '.' || cur.added_field
        || ' - proactive.' || cur.row_key || '.' || cur.removed_field  as cells
from {{ ref('int_proactive_stock') }} as cur
join {{ ref('int_report_prior_year') }} as p
  on p.report_id = cur.report_id
join {{ ref('int_proactive_stock') }} as prv
  on prv.report_id = p.prior_report_id
 and prv.row_key = cur.row_key
where cur.n_cells > 0
  and prv.n_cells > 0
  and cur.report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'proactive'
)
  and prv.report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'proactive'
)
