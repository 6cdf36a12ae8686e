{#-
    docs/contract.md#ledger-entry-types-and-signs: charges, adjustments and other
    debits are >= 0; other credits and payments are <= 0. Returns the entries
    whose sign breaks that.
-#}

{% test amount_sign_matches_type(model, type_column, amount_column) %}

select *
from {{ model }}
where
    ({{ type_column }} in ('charge', 'adjustment', 'other_debit') and {{ amount_column }} < 0)
    or (
        {{ type_column }} in ('other_credit', 'patient_payment', 'insurance_payment')
        and {{ amount_column }} > 0
    )

{% endtest %}
