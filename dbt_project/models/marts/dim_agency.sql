-- One row per body (agency_id): one body across years and name variants (ingestion/agencies.py),
-- named as its latest report prints it, with every name it was printed under, its region (that
-- of its latest report with one), level of government and kind of body. A report linked to no
-- other report (link_method unlinked) is a body of its own here.
with reports as (
    select
        l.*,
        r.is_current,
        r.parsed_at,
        row_number() over (
            partition by l.agency_id
            order by l.year desc nulls last, r.parsed_at desc nulls last, l.report_id desc
        ) as recency,
        row_number() over (
            partition by l.agency_id
            order by (l.region_code is null), l.year desc nulls last, r.parsed_at desc nulls last, l.report_id desc
        ) as region_recency
    from {{ ref('int_report_agency') }} as l
    join {{ ref('dim_report') }} as r
      on r.report_id = l.report_id
),

latest as (
    select * from reports where recency = 1
),

placed as (
    select * from reports where region_recency = 1
),

names as (
    select
        agency_id,
        string_agg(distinct agency, ' / ' order by agency)  as names,
        count(distinct agency)                              as name_count,
        string_agg(distinct link_method, ', ' order by link_method)  as link_methods,
        min(year)                                           as first_year,
        max(year)                                           as last_year,
        count(distinct year)                                as year_count,
        count(*) filter (where is_current)                  as report_count
    from reports
    group by agency_id
)

select
    n.agency_id,
    l.agency          as agency_name,
    n.names,
    n.name_count,
    l.is_linked,
    n.link_methods,
    l.body_key,
    l.body_kind,
    l.township,
    coalesce(l.gov_level, p.gov_level)  as gov_level,
    p.region_status,
    p.region_code,
    p.region_id,
    p.region_level,
    p.province_code,
    p.province,
    p.city_code,
    p.city,
    p.county_code,
    p.county,
    n.first_year,
    n.last_year,
    n.year_count,
    n.report_count
from names as n
join latest as l on l.agency_id = n.agency_id
join placed as p on p.agency_id = n.agency_id
