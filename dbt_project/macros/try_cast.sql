{#- CAST that yields NULL instead of failing on a malformed value (e.g. a published date
    the parser could not normalise). DuckDB, Snowflake and SQL Server spell it TRY_CAST;
    elsewhere fall back to a plain CAST. -#}
{% macro ogi_try_cast(expression, type) -%}
    {{ return(adapter.dispatch('ogi_try_cast', 'ogi_warehouse')(expression, type)) }}
{%- endmacro %}

{% macro default__ogi_try_cast(expression, type) -%}
    cast({{ expression }} as {{ type }})
{%- endmacro %}

{% macro duckdb__ogi_try_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}
