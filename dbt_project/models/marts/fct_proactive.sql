{{ config(**ogi_incremental('dim_report')) }}
-- Incremental (macros/ogi_incremental.sql): a build redoes the reports whose parse, certification
-- or currency changed.
-- Table 2 (主动公开政府信息情况) of the reports whose table 2 is certified
-- (dim_report.certified_proactive). Grain: report x item x field, for the fields of the report's
-- form (dim_proactive_item). A count is a whole number (count; the 2019 form's change may be
-- negative), an amount a decimal in 万元 (amount_10k_yuan); the other column is NULL. Blank cells
-- stay NULL. measure names the fields comparable across forms (e.g. regulations.issued: 本年制发件数
-- on the 2021 form, 本年新制作数量 on the 2019 form); NULL where a field is specific to its form.
select
    c.report_id,
    r.template,
    c.row_key                                                                  as item,
    c.col_key                                                                  as field,
    nullif(f.comparable_measure, '')                                           as measure,
    case when f.value_kind <> 'amount' then cast(c.value as bigint) end       as count,
    case when f.value_kind = 'amount' then cast(c.value as decimal(18, 4)) end as amount_10k_yuan
from {{ ref('int_current_cells') }} as c
join {{ ref('dim_report') }} as r
  on r.report_id = c.report_id
join {{ ref('ref_proactive_fields') }} as f
  on f.template = r.template
 and f.row_key = c.row_key
 and f.field = c.col_key
where c.table_name = 'proactive'
  and r.certified_proactive
  and r.is_current
  and {{ ogi_in_scope('c.report_id') }}
