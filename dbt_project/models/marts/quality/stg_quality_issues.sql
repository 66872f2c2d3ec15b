{{ config(schema='staging', materialized='view') }}
-- The Great Expectations gate's findings, one row per failed check (report x rule x scope).
-- Renames and casts only. This staging model lives under models/marts/ on purpose: its source
-- is written by the gate, which runs after the pre-gate build (path:models/staging
-- path:models/intermediate) and before the post-gate build (path:models/marts). Were it in
-- models/staging, the pre-gate dbt step would depend on the gate that depends on it (a cycle
-- in the Dagster asset graph), and it would fail on a first run with no quality_issues.parquet.
select
    cast(report_id as varchar)     as report_id,
    cast(rule as varchar)          as rule,
    cast(severity as varchar)      as severity,
    cast(scope_kind as varchar)    as scope_kind,
    cast(scope as varchar)         as scope,
    cast(expected as double)       as expected,
    cast(actual as double)         as actual,
    cast(residual as double)       as residual,
    cast(cells as varchar)         as cells,
    cast(checked_at as timestamp)  as checked_at
from {{ source('quality', 'quality_issues') }}
