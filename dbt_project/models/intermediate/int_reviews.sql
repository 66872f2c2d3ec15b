-- Table 4, report x proceeding x result, with the row's printed total kept beside each cell.
-- count and printed_total are NULL where the source cell is blank.
with cells as (
    select
        report_id,
        row_key as proceeding,
        col_key as review_result,
        value,
        max(case when col_key = 'total' then value end)
            over (partition by report_id, row_key) as printed_total
    from {{ ref('int_current_cells') }}
    where table_name = 'reviews'
)

select
    report_id,
    proceeding,
    review_result,
    value as count,
    printed_total
from cells
where review_result <> 'total'
