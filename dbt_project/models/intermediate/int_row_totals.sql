-- Per row of table 3 and table 4: the printed total column and the sum of the other columns
-- (blank read as 0): the two sides of identities 3 and 4.
select
    report_id,
    table_name,
    row_key,
    sum(case when col_key = 'total' then value end)                          as printed_total,
    sum(case when col_key <> 'total' then coalesce(value, 0) else 0 end)     as parts_sum,
    count(case when col_key <> 'total' then 1 end)                           as parts_present
from {{ ref('int_current_cells') }}
where table_name in ('applications', 'reviews')
group by report_id, table_name, row_key
