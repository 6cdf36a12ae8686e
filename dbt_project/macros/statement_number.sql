{#- "STMT-{YYYY}-{MM}-{customer external_id}" (docs/contract.md#statement-fields). -#}

{% macro statement_number(period_start, customer_external_id) -%}
    'STMT-' || {{ year_month(period_start) }} || '-' || {{ customer_external_id }}
{%- endmacro %}

{% macro year_month(date_expression) -%}
    {{ return(adapter.dispatch('year_month')(date_expression)) }}
{%- endmacro %}

{% macro default__year_month(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{% macro postgres__year_month(date_expression) -%}
    to_char({{ date_expression }}, 'YYYY-MM')
{%- endmacro %}
