-- Indicators by region and year, from agg_agency_year (one row per body and year, with the region
-- its report is linked to): one row per province x year (grain 'province', every body of the
-- province: its own, its cities' and its counties') and per city x year (grain 'city', the bodies
-- of the city and its counties; a municipality's districts are its city).
-- Each group of measures is summed over the agency-years whose table is certified, as in
-- agg_agency_year (where a table is not certified its measures are NULL there, and sum() leaves
-- them out): table 3 over applications_agency_years, table 4 over reviews_agency_years, table 2
-- over proactive_agency_years; a group is NULL where no agency-year of the region has its table
-- certified, never 0. Rates are pooled (sum of numerators / sum of denominators, both from the
-- same certified tables); median_denial_rate is the median of the bodies' own rates.
-- Agency-years whose region is unresolved (an ambiguous name with no 索引号 code, no place at all)
-- are the province row with province_code NULL.
-- reports counts every current report linked to the region in the year; certified_reports those
-- with all three tables certified, applications_certified_reports etc. those with that table.
with by_region as (
    select
        case when grouping(city_code) = 1 then 'province' else 'city' end  as grain,
        province_code,
        any_value(province)                     as province,
        city_code,
        any_value(city)                         as city,
        year,
        count(distinct agency_id)               as agencies,
        count(*)                                as agency_years,
        count(*) filter (where certified_applications)  as applications_agency_years,
        count(*) filter (where certified_reviews)       as reviews_agency_years,
        count(*) filter (where certified_proactive)     as proactive_agency_years,
        -- table 3
        sum(new_received)                       as new_received,
        sum(handled)                            as handled,
        sum(granted)                            as granted,
        sum(partially_granted)                  as partially_granted,
        sum(denied)                             as denied,
        sum(unavailable_not_held)               as unavailable_not_held,
        sum(rejected)                           as rejected,
        median(denial_rate)                     as median_denial_rate,
        -- table 4
        sum(reconsideration_total)              as reconsideration_total,
        sum(reconsideration_corrected)          as reconsideration_corrected,
        sum(litigation_total)                   as litigation_total,
        sum(litigation_corrected)               as litigation_corrected,
        -- table 2
        sum(regulations_issued)                 as regulations_issued,
        sum(normative_documents_issued)         as normative_documents_issued,
        sum(licensing_decisions)                as licensing_decisions,
        sum(penalty_decisions)                  as penalty_decisions,
        sum(coercion_decisions)                 as coercion_decisions
    from {{ ref('agg_agency_year') }}
    -- the noqa marks: sqlfluff's DuckDB dialect cannot parse GROUPING SETS (and then reads grouping as a column)
    group by grouping sets ((province_code, year), (province_code, city_code, year))  -- noqa: PRS
    having grouping(city_code) = 1 or city_code is not null
),

reports as (
    select
        case when grouping(l.city_code) = 1 then 'province' else 'city' end  as grain,
        l.province_code,
        l.city_code,
        l.year,
        count(*)                                                 as reports,
        count(*) filter (where d.certified)                      as certified_reports,
        count(*) filter (where d.certified_applications)         as applications_certified_reports,
        count(*) filter (where d.certified_reviews)              as reviews_certified_reports,
        count(*) filter (where d.certified_proactive)            as proactive_certified_reports
    from {{ ref('int_report_agency') }} as l
    join {{ ref('dim_report') }} as d
      on d.report_id = l.report_id
    where d.is_current
      and l.year is not null
    group by grouping sets ((l.province_code, l.year), (l.province_code, l.city_code, l.year))  -- noqa: PRS, RF02
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
    r.applications_certified_reports,
    r.reviews_certified_reports,
    r.proactive_certified_reports,
    b.agencies,
    b.agency_years,
    b.applications_agency_years,
    b.reviews_agency_years,
    b.proactive_agency_years,
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
    b.regulations_issued,
    b.normative_documents_issued,
    b.licensing_decisions,
    b.penalty_decisions,
    b.coercion_decisions,
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
