-- Every parsed report with its agency and region (stg_agency_links, matched on the report's
-- printed agency, year and division code). A report whose name is linked to no other report
-- (agency_id NULL in the links: an ambiguous place with no 索引号 code, a township without its
-- county, a name that says no place and no particular body, or no name at all) is a body of its
-- own: agency_id = 16 hex digits of sha256('report|' || report_id), link_method 'unlinked'.
select
    r.report_id,
    r.agency,
    r.year,
    r.division_code,
    coalesce(l.agency_id, left(sha256('report|' || r.report_id), 16))  as agency_id,
    l.agency_id is not null                                            as is_linked,
    coalesce(l.link_method, 'unlinked')                                as link_method,
    l.link_detail,
    l.warnings_json                                                    as link_warnings_json,
    l.alias_of,
    l.body_key,
    l.body_kind,
    l.township,
    l.gov_level,
    coalesce(l.region_status, 'none')                                  as region_status,
    l.region_source,
    l.region_candidates,
    l.divisions_year,
    l.region_code,
    l.region_id,
    l.region_level,
    l.province_code,
    l.province,
    l.city_code,
    l.city,
    l.county_code,
    l.county
from {{ ref('stg_reports') }} as r
left join {{ ref('stg_agency_links') }} as l
  on l.agency is not distinct from r.agency
 and l.year is not distinct from r.year
 and l.division_code is not distinct from r.division_code
