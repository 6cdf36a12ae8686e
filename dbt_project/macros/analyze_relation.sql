{#-
    Postgres plans joins from table statistics, and the warehouse runs with
    autovacuum off: refresh them as soon as a model is built. DuckDB keeps its
    statistics itself, so there this is nothing. A view has no statistics of its own.
-#}

{% macro analyze_relation(relation) -%}
    {{ return(adapter.dispatch('analyze_relation')(relation)) }}
{%- endmacro %}

{% macro default__analyze_relation(relation) -%}
{%- endmacro %}

{% macro postgres__analyze_relation(relation) -%}
    {%- if config.get('materialized') != 'view' -%}
    analyze {{ relation }}
    {%- endif -%}
{%- endmacro %}
