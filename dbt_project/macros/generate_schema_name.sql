{#
    A run for one practice (the var practice_schema, set by the Dagster partition) builds
    every model in that practice's own schema, so practices run side by side without
    replacing each other's tables. Otherwise dbt's default: the target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if var('practice_schema', '') -%}
        {{ var('practice_schema') | trim }}
    {%- elif custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
