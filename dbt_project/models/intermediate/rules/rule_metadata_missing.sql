-- Per report: the agency and the year, which every certified table needs (a number without its
-- body and year cannot be compared with anything). One row per missing item, lhs 1 against 0.
select
    report_id,
    'metadata_missing'  as rule,
    'report'            as table_name,
    'report'            as scope_kind,
    item                as scope,
    1.0                 as lhs,
    0.0                 as rhs,
    cells
from (
    select
        report_id,
        'agency' as item,
        'agency: not found in the title nor in a 发布机构 / 发文机关 line' as cells
    from {{ ref('int_current_reports') }}
    where agency is null or trim(agency) = ''
    union all
    select
        report_id,
        'year' as item,
        'year: not found in the title, the statistics period (统计期限) nor the publication date' as cells
    from {{ ref('int_current_reports') }}
    where year is null
) as missing
