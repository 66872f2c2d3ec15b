-- Indicators by region and year, from the certified agency-years of agg_agency_year (one report
-- per body and year) and the region each report is linked to (int_report_agency): one row per
-- province x year (grain 'province', every body of the province: its own, its cities' and its
-- counties') and per city x year (grain 'city', the bodies of the city and its counties; a
-- municipality's districts are its city). Counts are summed (blank read as 0, as in
-- agg_agency_year) and rates pooled (sum of numerators / sum of denominators); median_denial_rate
-- is the median of the bodies' own rates. Reports whose region is unresolved (an ambiguous name
-- with no 索引号 code, no place at all) are the province row with province_code NULL.
-- reports / certified_reports count every current report linked to the region in the year.
with measured as (
    select
        l.province_code,
        l.province,
        l.city_code,
        l.city,
        l.agency_id,
        a.*
    from {{ ref('agg_agency_year') }} as a
    join {{ ref('int_report_agency') }} as l
      on l.report_id = a.report_id
),

by_region as (
    select
        case when grouping(city_code) = 1 then 'province' else 'city' end  as grain,
        province_code,
        any_value(province)                     as province,
        city_code,
        any_value(city)                         as city,
        year,
        count(distinct agency_id)               as agencies,
        count(*)                                as agency_years,
        sum(new_received)                       as new_received,
        sum(handled)                            as handled,
        sum(granted)                            as granted,
        sum(partially_granted)                  as partially_granted,
        sum(denied)                             as denied,
        sum(unavailable_not_held)               as unavailable_not_held,
        sum(rejected)                           as rejected,
        sum(reconsideration_total)              as reconsideration_total,
        sum(reconsideration_corrected)          as reconsideration_corrected,
        sum(litigation_total)                   as litigation_total,
        sum(litigation_corrected)               as litigation_corrected,
        median(denial_rate)                     as median_denial_rate
    from measured
    group by grouping sets ((province_code, year), (province_code, city_code, year))
    having grouping(city_code) = 1 or city_code is not null
),

reports as (
    select
        case when grouping(l.city_code) = 1 then 'province' else 'city' end  as grain,
        l.province_code,
        l.city_code,
        l.year,
        count(*)                                 as reports,
        count(*) filter (where d.certified)      as certified_reports
    from {{ ref('int_report_agency') }} as l
    join {{ ref('dim_report') }} as d
      on d.report_id = l.report_id
    where d.is_current
      and l.year is not null
    group by grouping sets ((l.province_code, l.year), (l.province_code, l.city_code, l.year))
)

select
    b.grain,
    b.province_code,
    b.province,
    b.city_code,
    b.city,
    b.year,
    r.reports,
    r.certified_reports,
    b.agencies,
    b.agency_years,
    b.new_received,
    b.handled,
    b.granted,
    b.partially_granted,
    b.denied,
    b.unavailable_not_held,
    b.rejected,
    b.reconsideration_total,
    b.reconsideration_corrected,
    b.litigation_total,
    b.litigation_corrected,
    cast(b.granted + b.partially_granted as double) / nullif(b.handled, 0)      as substantive_disclosure_rate,
    cast(b.denied as double) / nullif(b.handled, 0)                             as denial_rate,
    cast(b.unavailable_not_held as double) / nullif(b.handled, 0)               as not_held_rate,
    cast(b.reconsideration_corrected as double) / nullif(b.reconsideration_total, 0)  as reconsideration_correction_rate,
    cast(b.litigation_corrected as double) / nullif(b.litigation_total, 0)      as litigation_loss_rate,
    b.median_denial_rate
from by_region as b
left join reports as r
  on r.grain = b.grain
 and r.province_code is not distinct from b.province_code
 and r.city_code is not distinct from b.city_code
 and r.year = b.year
