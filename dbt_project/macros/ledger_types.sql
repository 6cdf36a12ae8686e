{#- The pushable entry types (docs/contract.md#ledger-entry-types-and-signs), as SQL lists. -#}

{% macro billable_types() -%}
    ('charge', 'adjustment', 'other_debit', 'other_credit')
{%- endmacro %}

{% macro payment_types() -%}
    ('patient_payment', 'insurance_payment')
{%- endmacro %}
