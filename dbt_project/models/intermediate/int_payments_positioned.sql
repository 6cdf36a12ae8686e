{#-
    The payment axis of the waterfall (docs/contract.md#allocation): a customer's
    payments laid end to end in (transaction_date, external_id) order, payment j
    (payment_seq) covering [Q(j-1), Q(j)) with Q(j) the running sum of values.
    External ids of one day are ordered by their bytes on every database.
-#}

with

ledger_entries as (

    select * from {{ ref('stg_ledger_entries') }}

),

payments as (

    select
        external_id as payment_external_id,
        customer_external_id,
        transaction_date,
        {{ money("-amount") }} as payment_amount

    from ledger_entries
    where transaction_type in {{ payment_types() }}

),

laid_end_to_end as (

    select
        payment_external_id,
        customer_external_id,
        transaction_date,
        payment_amount,
        row_number() over in_payment_order as payment_seq,
        sum(payment_amount) over in_payment_order as payment_end

    from payments
    window in_payment_order as (
        partition by customer_external_id
        order by transaction_date, {{ bytewise('payment_external_id') }}
        rows between unbounded preceding and current row
    )

),

final as (

    select
        payment_external_id,
        customer_external_id,
        transaction_date,
        payment_amount,
        payment_seq,
        {{ axis_position('payment_end - payment_amount') }} as payment_start,
        {{ axis_position('payment_end') }} as payment_end

    from laid_end_to_end

)

select * from final
