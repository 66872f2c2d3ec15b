-- Agency x year indicators from certified reports. One report per agency-year: when an agency has
-- several certified reports for a year (the same report ingested twice, as PDF and as text), the
-- best-ranked one in int_agency_year_reports is used (the most recently parsed; ties: greatest
-- report_id); report_count shows how many certified reports there were.
-- Counts are the printed total column (总计) of table 3, blank read as 0. A rate is NULL where
-- its denominator is 0.
{%- set denied = ogi_denied_rows() %}

with certified as (
    select
        a.report_id,
        a.agency,
        a.year,
        a.template,
        row_number() over (partition by a.agency, a.year order by a.rank_in_year)  as rank_among_certified,
        count(*) over (partition by a.agency, a.year)                              as report_count
    from {{ ref('int_agency_year_reports') }} as a
    join {{ ref('dim_report') }} as d
      on d.report_id = a.report_id
    where d.certified
      and d.is_current
),

chosen as (
    select * from certified where rank_among_certified = 1
),

applications as (
    select
        a.report_id,
        coalesce(a.new_received, 0)     as new_received,
        coalesce(a.carried_over, 0)     as carried_over,
        coalesce(a.total_handled, 0)    as handled,
        coalesce(a.carried_forward, 0)  as carried_forward
    from {{ ref('fct_applications') }} as a
    where a.applicant_type = 'total'
),

outcomes as (
    select
        o.report_id,
        sum(case when d.outcome_group = 'granted' then coalesce(o.count, 0) else 0 end)            as granted,
        sum(case when d.outcome_group = 'partially_granted' then coalesce(o.count, 0) else 0 end)  as partially_granted,
        sum(case when d.outcome_group = 'denied' then coalesce(o.count, 0) else 0 end)             as denied,
        {%- for key in denied %}
        sum(case when o.outcome = '{{ key }}' then coalesce(o.count, 0) else 0 end)                as {{ key }},
        {%- endfor %}
        sum(case when d.outcome_group = 'unavailable' then coalesce(o.count, 0) else 0 end)        as unavailable,
        sum(case when o.outcome = 'unavailable_not_held' then coalesce(o.count, 0) else 0 end)     as unavailable_not_held,
        sum(case when d.outcome_group = 'rejected' then coalesce(o.count, 0) else 0 end)           as rejected,
        sum(case when d.outcome_group = 'other' then coalesce(o.count, 0) else 0 end)              as other_handling
    from {{ ref('fct_outcomes') }} as o
    join {{ ref('dim_outcome') }} as d
      on d.outcome = o.outcome
    where o.applicant_type = 'total'
    group by o.report_id
),

-- one row per report x proceeding: the printed total and the corrected count
proceedings as (
    select
        report_id,
        proceeding,
        coalesce(max(printed_total), 0)                                                 as printed_total,
        sum(case when review_result = 'corrected' then coalesce(count, 0) else 0 end)   as corrected
    from {{ ref('fct_reviews') }}
    group by report_id, proceeding
),

reviews as (
    select
        report_id,
        sum(case when proceeding = 'reconsideration' then printed_total else 0 end)     as reconsideration_total,
        sum(case when proceeding = 'reconsideration' then corrected else 0 end)         as reconsideration_corrected,
        sum(case when proceeding <> 'reconsideration' then printed_total else 0 end)    as litigation_total,
        sum(case when proceeding <> 'reconsideration' then corrected else 0 end)        as litigation_corrected
    from proceedings
    group by report_id
),

measures as (
    select
        c.agency,
        c.year,
        c.report_id,
        c.report_count,
        c.template,
        coalesce(a.new_received, 0)          as new_received,
        coalesce(a.carried_over, 0)          as carried_over,
        coalesce(a.handled, 0)               as handled,
        coalesce(a.carried_forward, 0)       as carried_forward,
        coalesce(o.granted, 0)               as granted,
        coalesce(o.partially_granted, 0)     as partially_granted,
        coalesce(o.denied, 0)                as denied,
        {%- for key in denied %}
        coalesce(o.{{ key }}, 0)             as {{ key }},
        {%- endfor %}
        coalesce(o.unavailable, 0)           as unavailable,
        coalesce(o.unavailable_not_held, 0)  as unavailable_not_held,
        coalesce(o.rejected, 0)              as rejected,
        coalesce(o.other_handling, 0)        as other_handling,
        coalesce(v.reconsideration_total, 0)      as reconsideration_total,
        coalesce(v.reconsideration_corrected, 0)  as reconsideration_corrected,
        coalesce(v.litigation_total, 0)           as litigation_total,
        coalesce(v.litigation_corrected, 0)       as litigation_corrected
    from chosen as c
    left join applications as a on a.report_id = c.report_id
    left join outcomes as o on o.report_id = c.report_id
    left join reviews as v on v.report_id = c.report_id
)

select
    agency,
    year,
    report_id,
    report_count,
    template,
    new_received,
    carried_over,
    handled,
    carried_forward,
    granted,
    partially_granted,
    denied,
    {%- for key in denied %}
    {{ key }},
    {%- endfor %}
    unavailable,
    unavailable_not_held,
    rejected,
    other_handling,
    reconsideration_total,
    reconsideration_corrected,
    litigation_total,
    litigation_corrected,
    cast(granted + partially_granted as double) / nullif(handled, 0)          as substantive_disclosure_rate,
    cast(denied as double) / nullif(handled, 0)                                as denial_rate,
    {%- for key in denied %}
    cast({{ key }} as double) / nullif(handled, 0)                              as {{ key | replace('denied_', 'denial_rate_') }},
    {%- endfor %}
    cast(unavailable_not_held as double) / nullif(handled, 0)                  as not_held_rate,
    cast(reconsideration_corrected as double) / nullif(reconsideration_total, 0)  as reconsideration_correction_rate,
    cast(litigation_corrected as double) / nullif(litigation_total, 0)         as litigation_loss_rate
from measures
