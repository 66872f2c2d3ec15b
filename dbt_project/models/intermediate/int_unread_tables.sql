{{ config(**ogi_incremental('current_reports')) }}
-- The tables of a report that hold cells the parser could not read (status unread), one row per
-- report x such table: how many, and which (a row whose cells are all unread as row.*).
-- A table with an unread cell is not certified (rule cells_unread), and its identity rules are
-- not judged: a residual must never blame a report for what the parser missed.
-- Incremental (macros/ogi_incremental.sql): the unread cells are few, but finding them reads
-- every cell, and an incremental build reads the cells of the reports in scope only.
with unread as (
    select report_id, table_name, row_key, col_key
    from {{ ref('int_current_cells') }}
    where status = 'unread'
      and {{ ogi_in_scope('report_id') }}
),

row_cells as (
    select c.report_id, c.table_name, c.row_key, count(*) as n_cells
    from {{ ref('int_current_cells') }} as c
    where c.report_id in (select u.report_id from unread as u)
    group by c.report_id, c.table_name, c.row_key
),

unread_rows as (
    select
        u.report_id,
        u.table_name,
        u.row_key,
        count(*) as n_unread,
        case
            when count(*) = max(rc.n_cells) then u.table_name || '.' || u.row_key || '.*'
            else {{ listagg("u.table_name || '.' || u.row_key || '.' || u.col_key", "', '", "order by u.col_key") }}
        end as keys
    from unread as u
    join row_cells as rc
      on rc.report_id = u.report_id
     and rc.table_name = u.table_name
     and rc.row_key = u.row_key
    group by u.report_id, u.table_name, u.row_key
)

select
    report_id,
    table_name,
    cast(sum(n_unread) as bigint)                                   as n_unread,
    {{ listagg('keys', "', '", 'order by row_key') }}               as unread_cells
from unread_rows
group by report_id, table_name
