{#- Contract keys (../shared/contract/REPORT_JSON.md) that the SQL pivots name at compile time.
    The full reference data (labels, groups, sort orders) is in the seeds generated from
    ingestion/templates.py; tests/assert_key_macros_match_reference.sql checks these lists
    against those seeds. -#}

{#- Table 3 columns (applicant types) without the total column, in printed order. -#}
{% macro ogi_applicant_parts() -%}
    {{ return(['natural_person', 'commercial', 'research', 'social_welfare', 'legal_services', 'other_org']) }}
{%- endmacro %}

{#- Table 3 rows that describe applications, not outcomes. Every other row is an outcome. -#}
{% macro ogi_non_outcome_rows() -%}
    {{ return(['new_received', 'carried_over', 'total', 'carried_forward']) }}
{%- endmacro %}

{#- Row (六) printed as three rows (2021 form). -#}
{% macro ogi_split_other_rows() -%}
    {{ return(['other_no_correction', 'other_unpaid_fee', 'other_other']) }}
{%- endmacro %}

{#- Table 3 rows of group "denied" (不予公开), in printed order. -#}
{% macro ogi_denied_rows() -%}
    {{ return([
        'denied_state_secret', 'denied_prohibited_by_law', 'denied_three_safeties_one_stability',
        'denied_third_party_rights', 'denied_internal_affairs', 'denied_process_info',
        'denied_enforcement_files', 'denied_administrative_query'
    ]) }}
{%- endmacro %}

{#- Table 4 result columns without the total column. -#}
{% macro ogi_review_parts() -%}
    {{ return(['upheld', 'corrected', 'other', 'pending']) }}
{%- endmacro %}

{#- Render a list of keys as a SQL IN-list body: 'a', 'b', 'c' -#}
{% macro ogi_in_list(keys) -%}
    {%- for k in keys %}'{{ k }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#- Table 3 outcome rows in printed order for a row (六) variant: 'single' (one row `other`,
    the 2019 form) or 'split' (the 2021 form's three `other_*` rows). -#}
{% macro ogi_outcome_rows(variant) -%}
    {%- set head = [
        'granted', 'partially_granted',
        'denied_state_secret', 'denied_prohibited_by_law', 'denied_three_safeties_one_stability',
        'denied_third_party_rights', 'denied_internal_affairs', 'denied_process_info',
        'denied_enforcement_files', 'denied_administrative_query',
        'unavailable_not_held', 'unavailable_needs_creation', 'unavailable_unclear',
        'rejected_petition', 'rejected_duplicate', 'rejected_publication',
        'rejected_excessive', 'rejected_confirmation'
    ] -%}
    {%- if variant == 'single' -%}
        {{ return(head + ['other']) }}
    {%- else -%}
        {{ return(head + ogi_split_other_rows()) }}
    {%- endif -%}
{%- endmacro %}
