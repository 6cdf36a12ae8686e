{#-
    The payment axis of the waterfall (docs/contract.md#allocation): a customer's
    payments laid end to end in (transaction_date, external_id) order, payment j
    (payment_seq) covering [Q(j-1), Q(j)) with Q(j) the running sum of values.
    External ids of one day are ordered by their bytes on every database.
-#}

with

ledger_entries as (

    select * from {{ ref('int_touched_ledger_entries') }}

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

final as (

    {{ laid_end_to_end(
        'payments',
        columns=[
            'payment_external_id', 'customer_external_id', 'transaction_date', 'payment_amount'
        ],
        amount='payment_amount',
        order_by='transaction_date, ' ~ bytewise('payment_external_id'),
        name='payment'
    ) }}

)

select * from final
