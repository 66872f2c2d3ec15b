-- Table 3 columns (申请人情况). total is the printed 总计 column: exclude it (is_total) before
-- summing across applicant types.
select
    applicant_type,
    label_zh,
    label_en,
    cast(sort_order as integer)  as sort_order,
    cast(is_total as boolean)    as is_total
from {{ ref('ref_applicant_types') }}
