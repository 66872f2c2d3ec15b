-- Per report x table: the cells the parser could not read (int_unread_tables) against none. A
-- table with an unread cell is not certified, and its identity rules are not judged (they would
-- blame the report for what the parser missed); cells names the unread cells (row.* for a row
-- the parser could not read at all).
select
    report_id,
    'cells_unread'  as rule,
    table_name,
    'report'        as scope_kind,
    table_name      as scope,
    cast(n_unread as double)  as lhs,
    0.0                       as rhs,
    'cells of ' || table_name || ' the parser could not read (its identities are not judged): '
        || unread_cells       as cells
from {{ ref('int_unread_tables') }}
