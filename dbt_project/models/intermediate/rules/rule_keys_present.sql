-- keys_present, per report x table: the cells a report has against the cells its template
-- requires (ref_template_cells). lhs counts only cells whose key the template knows (a stray key
-- cannot make up for a missing one); table 3 is held to the row (六) variant the report prints
-- (three rows if any other_* row is there, else the single row). The cell counts come from the
-- incremental table int_table_cell_counts.
with

reports as (
    select * from {{ ref('int_current_reports') }}
),

template_cells as (
    select * from {{ ref('ref_template_cells') }}
),

required as (
    select template, table_name, row_variant, count(*) as n_required
    from template_cells
    group by template, table_name, row_variant
),

cell_counts as (
    select * from {{ ref('int_table_cell_counts') }}
),

table_names as (
    select distinct table_name from template_cells
),

report_tables as (
    select
        r.report_id,
        r.template,
        t.table_name,
        coalesce(cc.n_valid_cells, 0) as n_valid_cells,
        case
            when t.table_name <> 'applications' then 'any'
            when coalesce(cc.n_split_cells, 0) > 0 then 'split'
            else 'single'
        end as row_variant
    from reports as r
    cross join table_names as t
    left join cell_counts as cc
      on cc.report_id = r.report_id
     and cc.table_name = t.table_name
),

keys_checked as (
    select
        rt.report_id,
        rt.template,
        rt.table_name,
        rt.row_variant,
        rt.n_valid_cells,
        coalesce(rq.n_required, 0) as n_required
    from report_tables as rt
    left join required as rq
      on rq.template = rt.template
     and rq.table_name = rt.table_name
     and rq.row_variant = rt.row_variant
),

failing as (
    select distinct report_id
    from keys_checked
    where n_valid_cells <> n_required
),

-- the cells of failing reports only: one cheap semi-join instead of a 4-key join over all cells
failing_cells as (
    select c.report_id, c.table_name, c.row_key, c.col_key
    from {{ ref('int_current_cells') }} as c
    where c.report_id in (select f.report_id from failing as f)
),

-- for the failing report-tables only: which required cells are missing, by row
missing_rows as (
    select
        k.report_id,
        k.table_name,
        tc.row_key,
        min(tc.col_key) as first_col,
        count(*)        as n_missing
    from keys_checked as k
    join template_cells as tc
      on tc.template = k.template
     and tc.table_name = k.table_name
     and tc.row_variant = k.row_variant
    left join failing_cells as c
      on c.report_id = k.report_id
     and c.table_name = tc.table_name
     and c.row_key = tc.row_key
     and c.col_key = tc.col_key
    where k.n_valid_cells <> k.n_required
      and c.report_id is null
    group by k.report_id, k.table_name, tc.row_key
),

missing_text as (
    select
        report_id,
        table_name,
        {{ listagg("row_key || ' (' || cast(n_missing as varchar) || ')'", "', '", "order by row_key") }} as missing
    from missing_rows
    group by report_id, table_name
)

select
    k.report_id,
    'keys_present'  as rule,
    k.table_name,
    'report'        as scope_kind,
    k.table_name    as scope,
    cast(k.n_valid_cells as double)  as lhs,
    cast(k.n_required as double)     as rhs,
    'cells in ' || k.table_name || ' with a key of template ' || k.template
        || case k.row_variant
               when 'single' then ' (row (六) as one row)'
               when 'split' then ' (row (六) as three rows)'
               else ''
           end
        || ' = cells the template requires'
        || coalesce('; missing cells by row: ' || m.missing, '')  as cells
from keys_checked as k
left join missing_text as m
  on m.report_id = k.report_id
 and m.table_name = k.table_name
