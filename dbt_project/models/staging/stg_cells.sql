-- One row per cell of tables 2, 3 and 4 (long form). value is NULL where the source cell is
-- blank or the parser could not read it (status says which): blank and 0 are different facts and
-- stay different here, and an unread cell is neither.
select
    cast(report_id as varchar)   as report_id,
    cast(table_name as varchar)  as table_name,
    cast(row_key as varchar)     as row_key,
    cast(col_key as varchar)     as col_key,
    cast(value as double)        as value,
    cast(raw as varchar)         as raw_token,
    cast(position as varchar)    as source_position,
    cast(status as varchar)      as status,
    cast(rule as varchar)        as rule
from {{ source('raw', 'cells') }}
