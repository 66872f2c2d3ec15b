-- Table 4 rows (行政复议、行政诉讼): reconsideration, litigation_direct, litigation_after_reconsideration.
select
    proceeding,
    label_zh,
    label_en,
    proceeding_kind,
    cast(sort_order as integer) as sort_order
from {{ ref('ref_proceedings') }}
