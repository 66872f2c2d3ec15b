-- The key lists the SQL pivots name (macros/ogi_keys.sql) agree with the reference seeds
-- generated from ingestion/templates.py. Returns one row per disagreement.
with rows_ as (
    select * from {{ ref('ref_application_rows') }}
),

applicants as (
    select * from {{ ref('ref_applicant_types') }}
),

results as (
    select * from {{ ref('ref_review_results') }}
)

select 'non_outcome_rows' as list_name, row_key as key
from rows_
where (not cast(is_outcome as boolean)) <> (row_key in ({{ ogi_in_list(ogi_non_outcome_rows()) }}))

union all
select 'denied_rows' as list_name, row_key as key
from rows_
where (row_group = 'denied') <> (row_key in ({{ ogi_in_list(ogi_denied_rows()) }}))

union all
select 'split_other_rows' as list_name, row_key as key
from rows_
where (row_variant = 'split') <> (row_key in ({{ ogi_in_list(ogi_split_other_rows()) }}))

union all
select 'outcome_rows_single' as list_name, row_key as key
from rows_
where (cast(is_outcome as boolean) and row_variant in ('both', 'single'))
   <> (row_key in ({{ ogi_in_list(ogi_outcome_rows('single')) }}))

union all
select 'outcome_rows_split' as list_name, row_key as key
from rows_
where (cast(is_outcome as boolean) and row_variant in ('both', 'split'))
   <> (row_key in ({{ ogi_in_list(ogi_outcome_rows('split')) }}))

union all
select 'applicant_parts' as list_name, applicant_type as key
from applicants
where (not cast(is_total as boolean)) <> (applicant_type in ({{ ogi_in_list(ogi_applicant_parts()) }}))

union all
select 'review_parts' as list_name, review_result as key
from results
where (not cast(is_total as boolean)) <> (review_result in ({{ ogi_in_list(ogi_review_parts()) }}))
