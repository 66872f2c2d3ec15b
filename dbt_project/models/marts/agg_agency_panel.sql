-- The agency panel: one row per body (agency_id) and year with its indicators (agg_agency_year:
-- certified reports only), the same body's values of the year before (when it has a row for
-- exactly that year) and the change, for "who changed most". A body printed under two names is
-- one body here (洪泽区人民政府 2023 and 淮安市洪泽区人民政府 2024). When a body has two rows in
-- agg_agency_year for one year (two names in one year), the better-ranked report
-- (int_agency_year_reports) is used.
with rows as (
    select
        r.agency_id,
        a.*,
        row_number() over (partition by r.agency_id, a.year order by r.rank_in_year, a.report_id) as pick
    from {{ ref('agg_agency_year') }} as a
    join {{ ref('int_agency_year_reports') }} as r
      on r.report_id = a.report_id
),

panel as (
    select
        agency_id,
        year,
        report_id,
        agency,
        new_received,
        handled,
        granted,
        partially_granted,
        denied,
        unavailable_not_held,
        reconsideration_total,
        reconsideration_corrected,
        litigation_total,
        litigation_corrected,
        substantive_disclosure_rate,
        denial_rate,
        not_held_rate,
        reconsideration_correction_rate,
        litigation_loss_rate
    from rows
    where pick = 1
)

select
    p.agency_id,
    d.agency_name,
    d.province,
    d.city,
    d.gov_level,
    d.body_kind,
    p.year,
    p.report_id,
    p.agency,
    p.new_received,
    p.handled,
    p.granted,
    p.partially_granted,
    p.denied,
    p.unavailable_not_held,
    p.reconsideration_total,
    p.litigation_total,
    p.substantive_disclosure_rate,
    p.denial_rate,
    p.not_held_rate,
    p.reconsideration_correction_rate,
    p.litigation_loss_rate,
    q.year                                   as prev_year,
    q.report_id                              as prev_report_id,
    q.agency                                 as prev_agency,
    q.new_received                           as prev_new_received,
    q.handled                                as prev_handled,
    q.denied                                 as prev_denied,
    q.reconsideration_total                  as prev_reconsideration_total,
    q.litigation_total                       as prev_litigation_total,
    q.substantive_disclosure_rate            as prev_substantive_disclosure_rate,
    q.denial_rate                            as prev_denial_rate,
    q.not_held_rate                          as prev_not_held_rate,
    p.new_received - q.new_received          as new_received_change,
    p.handled - q.handled                    as handled_change,
    cast(p.handled - q.handled as double) / nullif(q.handled, 0)  as handled_change_ratio,
    p.denied - q.denied                      as denied_change,
    p.reconsideration_total - q.reconsideration_total  as reconsideration_total_change,
    p.litigation_total - q.litigation_total  as litigation_total_change,
    p.substantive_disclosure_rate - q.substantive_disclosure_rate  as substantive_disclosure_rate_change,
    p.denial_rate - q.denial_rate            as denial_rate_change,
    p.not_held_rate - q.not_held_rate        as not_held_rate_change
from panel as p
join {{ ref('dim_agency') }} as d
  on d.agency_id = p.agency_id
left join panel as q
  on q.agency_id = p.agency_id
 and q.year = p.year - 1
