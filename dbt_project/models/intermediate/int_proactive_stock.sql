-- Table 2 stock rows of the 2021 form (规章 regulations, 行政规范性文件 normative_documents),
-- one row per report: issued, abolished and in_force of each, NULL for blank. Feeds the stock
-- rule in_force(Y) = in_force(Y-1) + issued(Y) - abolished(Y). One row per report (not per row
-- key) so that the year-over-year join is on report_id alone.
select
    report_id,
    sum(case when row_key = 'regulations' and col_key = 'issued' then value end)             as regulations_issued,
    sum(case when row_key = 'regulations' and col_key = 'abolished' then value end)          as regulations_abolished,
    sum(case when row_key = 'regulations' and col_key = 'in_force' then value end)           as regulations_in_force,
    sum(case when row_key = 'normative_documents' and col_key = 'issued' then value end)     as normative_documents_issued,
    sum(case when row_key = 'normative_documents' and col_key = 'abolished' then value end)  as normative_documents_abolished,
    sum(case when row_key = 'normative_documents' and col_key = 'in_force' then value end)   as normative_documents_in_force,
    count(case when row_key = 'regulations' then 1 end)                                      as regulations_cells,
    count(case when row_key = 'normative_documents' then 1 end)                              as normative_documents_cells
from {{ ref('int_current_cells') }}
where table_name = 'proactive'
  and row_key in ('regulations', 'normative_documents')
  and col_key in ('issued', 'abolished', 'in_force')
group by report_id
