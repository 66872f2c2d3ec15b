-- The reports that are current: every parsed report except versions superseded in the inbox.
-- A file replaced at the same path (a corrected report dropped in again) supersedes the
-- version it replaced, unless that version is still the latest content of another path.
-- Reports with no inventory row (loaded by other means) are current. Superseded versions
-- stay in stg_reports and dim_report (is_current = false); nothing is dropped.
-- agency_id (int_report_agency): the body the report is linked to across years and name variants.
with versions as (
    select
        report_id,
        row_number() over (
            partition by path
            order by last_seen desc, first_seen desc, report_id asc
        ) as recency
    from {{ ref('stg_inventory') }}
),

latest as (
    select distinct report_id from versions where recency = 1
),

superseded as (
    select distinct report_id from versions
    except
    select report_id from latest
)

select r.*, a.agency_id
from {{ ref('stg_reports') }} as r
join {{ ref('int_report_agency') }} as a
  on a.report_id = r.report_id
where r.report_id not in (select s.report_id from superseded as s)
