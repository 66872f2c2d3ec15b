-- Table 3 outcome rows (本年度办理结果), with their group and how the two ways of printing row (六)
-- compare: the single row `other` and the three rows `other_no_correction`, `other_unpaid_fee`,
-- `other_other` all have comparable_outcome = 'other' (and group 'other').
select
    o.row_key                               as outcome,
    o.row_group                             as outcome_group,
    g.label_zh                              as outcome_group_label_zh,
    g.label_en                              as outcome_group_label_en,
    o.label_zh,
    o.label_en,
    o.row_variant,
    o.comparable_outcome,
    o.comparability_note,
    cast(o.sort_order as integer)           as sort_order,
    cast(g.sort_order as integer)           as outcome_group_sort_order
from {{ ref('ref_application_rows') }} as o
join {{ ref('ref_outcome_groups') }} as g
  on g.outcome_group = o.row_group
where cast(o.is_outcome as boolean)
