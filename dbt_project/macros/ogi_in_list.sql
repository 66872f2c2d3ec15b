{#- Render a list of keys as a SQL IN-list body: 'a', 'b', 'c' -#}
{% macro ogi_in_list(keys) -%}
    {%- for k in keys %}'{{ k }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}
