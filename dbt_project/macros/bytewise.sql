{#-
    Order strings by their bytes (code points for UTF-8), as the contract orders
    payments that share a date. DuckDB compares bytes already; Postgres would use
    the database's locale, so ask for the "C" collation.
-#}

{% macro bytewise(expression) -%}
    {{ return(adapter.dispatch('bytewise')(expression)) }}
{%- endmacro %}

{% macro default__bytewise(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__bytewise(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}
