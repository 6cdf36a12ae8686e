{#-
    docs/contract.md#identities, second identity, per customer and to the cent:
    the sum of payment values (-amount) in the ledger equals the sum of
    allocations plus the unapplied payments. `model` holds one row per customer with
    `unapplied_payments`. Returns the customers where it does not hold.
-#}

{% test payments_add_up(model, ledger, allocations) %}

with

ledger_entries as (

    select * from {{ ledger }}

),

allocations as (

    select * from {{ allocations }}

),

customers as (

    select * from {{ model }}

),

paid as (

    select
        customer_external_id,
        sum(-amount) as payments_total

    from ledger_entries
    where transaction_type in {{ payment_types() }}
    group by customer_external_id

),

allocated as (

    select
        customer_external_id,
        sum(allocated_amount) as allocated_amount

    from allocations
    group by customer_external_id

),

compared as (

    select
        coalesce(
            paid.customer_external_id,
            allocated.customer_external_id,
            customers.customer_external_id
        ) as customer_external_id,
        coalesce(paid.payments_total, 0) as payments_total,
        coalesce(allocated.allocated_amount, 0) as allocated_amount,
        customers.unapplied_payments

    from paid
    full outer join allocated
        on paid.customer_external_id = allocated.customer_external_id
    full outer join customers
        on coalesce(paid.customer_external_id, allocated.customer_external_id)
        = customers.customer_external_id

),

final as (

    select *
    from compared
    where
        unapplied_payments is null
        or unapplied_payments < 0
        or payments_total <> allocated_amount + unapplied_payments

)

select * from final

{% endtest %}
