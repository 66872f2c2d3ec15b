{#- Every combination of `columns` in the model is a row of the model `to` (with the same
    column names): a relationships test on several columns. NULL matches NULL only.
      data_tests:
        - rows_in_reference:
            arguments:
              columns: [rule, severity, scope_kind]
              to: ref('ref_quality_rules')
-#}
{% test rows_in_reference(model, columns, to) %}
    {%- set columns_csv = columns | join(', ') %}
    select distinct {{ columns_csv }} from {{ model }}
    except
    select {{ columns_csv }} from {{ to }}
{% endtest %}
