-- Table 2 items (主动公开) and their fields, per form. The two forms print different fields:
-- comparable_measure names the fields that measure the same thing on both (regulations and
-- normative documents issued in the year, licensing, penalty and coercion decisions), as
-- dim_outcome does for row (六) of table 3. Where it is NULL the field exists on its form only:
-- compare it across years of that form, never across forms.
select
    template,
    row_key                                   as item,
    row_label_zh                              as item_label_zh,
    field,
    field_label_zh,
    value_kind,
    nullif(comparable_measure, '')            as comparable_measure,
    case
        when nullif(comparable_measure, '') is null
            then 'printed on the ' || template || ' form only: not comparable across forms'
        else 'comparable across forms as ' || comparable_measure
    end                                       as comparability_note,
    cast(sort_order as integer)               as sort_order
from {{ ref('ref_proactive_fields') }}
