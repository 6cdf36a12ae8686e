{#- The pushable entry types of CONTRACT.md section 2, as SQL lists. -#}

{% macro billable_types() -%}
    ('charge', 'adjustment', 'other_debit', 'other_credit')
{%- endmacro %}

{% macro payment_types() -%}
    ('patient_payment', 'insurance_payment')
{%- endmacro %}
