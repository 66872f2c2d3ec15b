-- Agency x year indicators: one row per body (agency_id: one body across years and name variants,
-- int_report_agency) and year. One report per agency-year: among the body's current reports of the
-- year with at least one certified table, the one with the most certified tables, then the
-- best-ranked in int_agency_year_reports (the most recently parsed; ties: greatest report_id);
-- report_count says how many such reports there were (the same report ingested twice, as PDF and
-- as text, or printed under two names). agency is the name that report prints, agency_name the
-- body's name (dim_agency: its latest); the region is the one the report is linked to.
-- Each group of measures comes from its own table and only when that table is certified: the
-- table 3 counts and rates (certified_applications), the table 4 counts and rates
-- (certified_reviews), the table 2 counts (certified_proactive); a group is NULL where its table
-- is not certified, never 0. Counts are the printed total column (总计) of table 3, blank read as
-- 0 once the table is certified. A rate is NULL where its denominator is 0 or NULL.
{%- set denied = ogi_denied_rows() %}

with candidates as (
    select
        a.report_id,
        a.agency_id,
        a.agency,
        a.year,
        a.template,
        d.certified_applications,
        d.certified_reviews,
        d.certified_proactive,
        row_number() over (
            partition by a.agency_id, a.year
            order by cast(d.certified_applications as integer) + cast(d.certified_reviews as integer)
                     + cast(d.certified_proactive as integer) desc,
                     a.rank_in_year
        )                                                   as pick,
        count(*) over (partition by a.agency_id, a.year)       as report_count
    from {{ ref('int_agency_year_reports') }} as a
    join {{ ref('dim_report') }} as d
      on d.report_id = a.report_id
    where d.is_current
      and (d.certified_applications or d.certified_reviews or d.certified_proactive)
),

chosen as (
    select * from candidates where pick = 1
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

-- table 2, by the measures comparable across forms (dim_proactive_item.comparable_measure), and
-- the fees collected (2021 form only)
proactive as (
    select
        report_id,
        sum(case when measure = 'regulations.issued' then coalesce(count, 0) else 0 end)           as regulations_issued,
        sum(case when measure = 'normative_documents.issued' then coalesce(count, 0) else 0 end)   as normative_documents_issued,
        sum(case when measure = 'licensing.decisions' then coalesce(count, 0) else 0 end)          as licensing_decisions,
        sum(case when measure = 'penalty.decisions' then coalesce(count, 0) else 0 end)            as penalty_decisions,
        sum(case when measure = 'coercion.decisions' then coalesce(count, 0) else 0 end)           as coercion_decisions,
        sum(case when item = 'fees' then amount_10k_yuan end)                                      as fees_amount_10k_yuan,
        count(case when item = 'fees' and field = 'amount_10k_yuan' then 1 end)                    as fees_amount_cells
    from {{ ref('fct_proactive') }}
    group by report_id
),

measures as (
    select
        c.agency_id,
        c.agency,
        c.year,
        c.report_id,
        c.report_count,
        c.template,
        c.certified_applications,
        c.certified_reviews,
        c.certified_proactive,
        {%- for col in ['new_received', 'carried_over', 'handled', 'carried_forward'] %}
        case when c.certified_applications then cast(coalesce(a.{{ col }}, 0) as bigint) end  as {{ col }},
        {%- endfor %}
        {%- for col in ['granted', 'partially_granted', 'denied'] + denied
                       + ['unavailable', 'unavailable_not_held', 'rejected', 'other_handling'] %}
        case when c.certified_applications then cast(coalesce(o.{{ col }}, 0) as bigint) end  as {{ col }},
        {%- endfor %}
        {%- for col in ['reconsideration_total', 'reconsideration_corrected', 'litigation_total',
                       'litigation_corrected'] %}
        case when c.certified_reviews then cast(coalesce(v.{{ col }}, 0) as bigint) end       as {{ col }},
        {%- endfor %}
        {%- for col in ['regulations_issued', 'normative_documents_issued', 'licensing_decisions',
                       'penalty_decisions', 'coercion_decisions'] %}
        case when c.certified_proactive then cast(coalesce(p.{{ col }}, 0) as bigint) end     as {{ col }},
        {%- endfor %}
        -- only the 2021 form prints the fees collected
        case when c.certified_proactive and p.fees_amount_cells > 0
             then cast(coalesce(p.fees_amount_10k_yuan, 0) as decimal(18, 4)) end  as fees_amount_10k_yuan
    from chosen as c
    left join applications as a on a.report_id = c.report_id
    left join outcomes as o on o.report_id = c.report_id
    left join reviews as v on v.report_id = c.report_id
    left join proactive as p on p.report_id = c.report_id
),

-- the body's name and the region the chosen report is linked to
placed as (
    select
        m.*,
        g.agency_name,
        l.division_code,
        l.region_code,
        l.region_level,
        l.province_code,
        l.province,
        l.city_code,
        l.city,
        l.county_code,
        l.county,
        l.gov_level,
        l.body_kind
    from measures as m
    left join {{ ref('int_report_agency') }} as l
      on l.report_id = m.report_id
    left join {{ ref('dim_agency') }} as g
      on g.agency_id = m.agency_id
)

select
    agency_id,
    agency_name,
    agency,
    year,
    report_id,
    division_code,
    region_code,
    region_level,
    province_code,
    province,
    city_code,
    city,
    county_code,
    county,
    gov_level,
    body_kind,
    report_count,
    template,
    certified_applications,
    certified_reviews,
    certified_proactive,
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
    regulations_issued,
    normative_documents_issued,
    licensing_decisions,
    penalty_decisions,
    coercion_decisions,
    fees_amount_10k_yuan,
    cast(granted + partially_granted as double) / nullif(handled, 0)          as substantive_disclosure_rate,
    cast(denied as double) / nullif(handled, 0)                                as denial_rate,
    {%- for key in denied %}
    cast({{ key }} as double) / nullif(handled, 0)                              as {{ key | replace('denied_', 'denial_rate_') }},
    {%- endfor %}
    cast(unavailable_not_held as double) / nullif(handled, 0)                  as not_held_rate,
    cast(reconsideration_corrected as double) / nullif(reconsideration_total, 0)  as reconsideration_correction_rate,
    cast(litigation_corrected as double) / nullif(litigation_total, 0)         as litigation_loss_rate
from placed
