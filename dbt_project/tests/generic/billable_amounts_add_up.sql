{#-
    docs/contract.md#identities, first identity, per customer and to the cent:
    the sum of billable amounts in the ledger equals the sum of statement amounts
    plus the net of the months that do not qualify. `model` holds one row per customer
    with `non_qualifying_net`. Returns the customers where it does not hold.
-#}

{% test billable_amounts_add_up(model, ledger, statements) %}

{{ customer_identity(
    model, 'non_qualifying_net',
    ledger, billable_types(), 'amount',
    statements, 'amount'
) }}

{% endtest %}
