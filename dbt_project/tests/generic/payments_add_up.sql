{#-
    docs/contract.md#identities, second identity, per customer and to the cent:
    the sum of payment values (-amount) in the ledger equals the sum of
    allocations plus the unapplied payments. `model` holds one row per customer with
    `unapplied_payments`, never negative. Returns the customers where it does not hold.
-#}

{% test payments_add_up(model, ledger, allocations) %}

{{ customer_identity(
    model, 'unapplied_payments',
    ledger, payment_types(), '-amount',
    allocations, 'allocated_amount',
    balance_breaks='unapplied_payments < 0'
) }}

{% endtest %}
