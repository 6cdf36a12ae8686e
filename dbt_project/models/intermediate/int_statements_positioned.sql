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

laid_end_to_end as (

    select
        customer_external_id,
        period_start,
        amount,
        row_number() over oldest_first as statement_seq,
        sum(amount) over oldest_first as statement_end

    from qualifying_months
    window oldest_first as (
        partition by customer_external_id
        order by period_start
        rows between unbounded preceding and current row
    )

),

final as (

    select
        customer_external_id,
        period_start,
        amount,
        statement_seq,
        {{ axis_position('statement_end - amount') }} as statement_start,
        {{ axis_position('statement_end') }} as statement_end

    from laid_end_to_end

)

select * from final
