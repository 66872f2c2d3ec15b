{#- Every row (optionally only rows matching `where`) satisfies the boolean SQL `expression`.
      data_tests:
        - expression_is_true:
            arguments:
              expression: "residual = lhs - rhs"
-#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
