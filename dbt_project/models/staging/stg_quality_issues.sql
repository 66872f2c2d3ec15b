-- The Great Expectations gate's findings, one row per failed check (report x rule x scope).
-- Renames and casts only. checked_at becomes a timestamp with time zone: the gate writes UTC,
-- with a zone or as a naive UTC wall time; reading it through its epoch keeps the
-- instant whatever the session's TimeZone (a plain cast would read a naive value as local time).
-- Its source is written by the gate, which runs after the pre-gate build and before the marts:
-- this view is built with the marts (selectors.yml: pre_gate excludes source:quality+).
select
    cast(report_id as varchar)                     as report_id,
    cast(rule as varchar)                          as rule,
    cast(severity as varchar)                      as severity,
    cast(table_name as varchar)                    as table_name,
    cast(scope_kind as varchar)                    as scope_kind,
    cast(scope as varchar)                         as scope,
    cast(expected as double)                       as expected,
    cast(actual as double)                         as actual,
    cast(residual as double)                       as residual,
    cast(cells as varchar)                         as cells,
    timezone('UTC', make_timestamp(epoch_us(checked_at)))  as checked_at
from {{ source('quality', 'quality_issues') }}
