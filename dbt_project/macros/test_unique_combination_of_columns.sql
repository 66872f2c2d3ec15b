{#- The grain test: no two rows share the same values in `combination_of_columns`.
    Usage (dbt >= 1.10 nests arguments, STACK_NOTES P4):
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [report_id, applicant_type]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns_csv = combination_of_columns | join(', ') %}
    select {{ columns_csv }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns_csv }}
    having count(*) > 1
{% endtest %}
