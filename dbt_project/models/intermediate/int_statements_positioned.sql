{#-
    The statement axis of the waterfall (docs/contract.md#allocation): a customer's
    statements laid end to end, oldest first, statement i (statement_seq)
    covering [C(i-1), C(i)) with C(i) the running sum of amounts.
-#}

with

customer_months as (

    select * from {{ ref('int_customer_months_netted') }}

),

qualifying_months as (

    select
        customer_external_id,
        period_start,
        net_amount as amount

    from customer_months
    where net_amount > 0

),

final as (

    {{ laid_end_to_end(
        'qualifying_months',
        columns=['customer_external_id', 'period_start', 'amount'],
        amount='amount',
        order_by='period_start',
        name='statement'
    ) }}

)

select * from final
