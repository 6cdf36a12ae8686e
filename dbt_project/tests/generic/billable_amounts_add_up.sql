{#-
    docs/contract.md#identities, first identity, per customer and to the cent:
    the sum of billable amounts in the ledger equals the sum of statement amounts
    plus the net of the months that do not qualify. `model` holds one row per customer
    with `non_qualifying_net`. Returns the customers where it does not hold.
-#}

{% test billable_amounts_add_up(model, ledger, statements) %}

with

ledger_entries as (

    select * from {{ ledger }}

),

statements as (

    select * from {{ statements }}

),

customers as (

    select * from {{ model }}

),

billed as (

    select
        customer_external_id,
        sum(amount) as billed_amount

    from ledger_entries
    where transaction_type in {{ billable_types() }}
    group by customer_external_id

),

stated as (

    select
        customer_external_id,
        sum(amount) as statement_amount

    from statements
    group by customer_external_id

),

compared as (

    select
        coalesce(
            billed.customer_external_id,
            stated.customer_external_id,
            customers.customer_external_id
        ) as customer_external_id,
        coalesce(billed.billed_amount, 0) as billed_amount,
        coalesce(stated.statement_amount, 0) as statement_amount,
        customers.non_qualifying_net

    from billed
    full outer join stated
        on billed.customer_external_id = stated.customer_external_id
    full outer join customers
        on coalesce(billed.customer_external_id, stated.customer_external_id)
        = customers.customer_external_id

),

final as (

    select *
    from compared
    where
        non_qualifying_net is null
        or billed_amount <> statement_amount + non_qualifying_net

)

select * from final

{% endtest %}
