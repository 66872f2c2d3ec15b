-- The agency panel: one row per body (agency_id) and year of agg_agency_year (the body's report of
-- the year with the most certified tables), the same body's values of the year before (when it
-- has a row for exactly that year, under whatever name it printed then) and the change, for "who
-- changed most". A body printed under two names is one body here (洪泽区人民政府 2023 and
-- 淮安市洪泽区人民政府 2024). Each measure comes from its own certified table, as in
-- agg_agency_year: table 3 counts and rates (certified_applications), table 4
-- (certified_reviews), table 2 (certified_proactive); NULL where that table is not certified, so
-- a change is NULL unless the table is certified in both years (prev_certified_* say which).
{%- set counts = ['new_received', 'handled', 'granted', 'partially_granted', 'denied', 'unavailable_not_held',
                  'reconsideration_total', 'reconsideration_corrected', 'litigation_total', 'litigation_corrected',
                  'regulations_issued', 'normative_documents_issued', 'licensing_decisions',
                  'penalty_decisions', 'coercion_decisions'] %}
{%- set rates = ['substantive_disclosure_rate', 'denial_rate', 'not_held_rate',
                 'reconsideration_correction_rate', 'litigation_loss_rate'] %}

select
    p.agency_id,
    p.agency_name,
    p.province,
    p.city,
    p.gov_level,
    p.body_kind,
    p.year,
    p.report_id,
    p.agency,
    p.certified_applications,
    p.certified_reviews,
    p.certified_proactive,
    {%- for m in counts + rates %}
    p.{{ m }},
    {%- endfor %}
    q.year                                   as prev_year,
    q.report_id                              as prev_report_id,
    q.agency                                 as prev_agency,
    q.certified_applications                 as prev_certified_applications,
    q.certified_reviews                      as prev_certified_reviews,
    q.certified_proactive                    as prev_certified_proactive,
    {%- for m in counts + rates %}
    q.{{ m }}                                as prev_{{ m }},
    {%- endfor %}
    {%- for m in counts + rates %}
    p.{{ m }} - q.{{ m }}                    as {{ m }}_change,
    {%- endfor %}
    cast(p.handled - q.handled as double) / nullif(q.handled, 0)  as handled_change_ratio
from {{ ref('agg_agency_year') }} as p
left join {{ ref('agg_agency_year') }} as q
  on q.agency_id = p.agency_id
 and q.year = p.year - 1
