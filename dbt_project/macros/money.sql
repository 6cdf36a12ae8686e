{#- Money is exact: DECIMAL(14,2) on DuckDB, NUMERIC(14,2) on Postgres (the same type). -#}

{% macro money(expression) -%}
    cast({{ expression }} as decimal(14, 2))
{%- endmacro %}

{#-
    A position on a customer's waterfall axis: a running sum of amounts, so wider
    than one amount, and still exact.
-#}

{% macro axis_position(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}
