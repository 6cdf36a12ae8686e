{#-
    docs/contract.md#identities, per payment: every allocation is positive and
    together they are at most the payment's value (-amount in the ledger). Returns the
    payments that give more than they have, or give nothing or a negative share,
    or that are not payments of the customer in the ledger.
-#}

{% test allocations_within_payment_value(model, ledger) %}

with

payments as (

    select
        external_id as payment_external_id,
        customer_external_id,
        -amount as payment_value

    from {{ ledger }}
    where transaction_type in {{ payment_types() }}

),

given as (

    select
        payment_external_id,
        customer_external_id,
        sum(allocated_amount) as allocated_amount,
        min(allocated_amount) as smallest_allocation

    from {{ model }}
    group by payment_external_id, customer_external_id

),

compared as (

    select
        given.payment_external_id,
        given.customer_external_id,
        given.allocated_amount,
        given.smallest_allocation,
        payments.payment_value

    from given
    left join payments
        on
            given.payment_external_id = payments.payment_external_id
            and given.customer_external_id = payments.customer_external_id

),

final as (

    select *
    from compared
    where
        payment_value is null
        or smallest_allocation <= 0
        or allocated_amount > payment_value

)

select * from final

{% endtest %}
