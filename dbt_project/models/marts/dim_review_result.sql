-- Table 4 columns: upheld, corrected, other, pending (and the printed total, is_total).
select
    review_result,
    label_zh,
    label_en,
    cast(sort_order as integer)  as sort_order,
    cast(is_total as boolean)    as is_total
from {{ ref('ref_review_results') }}
