{#-
    The allocation rows of docs/contract.md#allocation-rows. Locally there is no
    statement UUID: the statement number stands in for it in the synthetic id.
-#}

with

allocations as (

    select * from {{ ref('int_payments_allocated_to_statements') }}

),

numbered as (

    select
        customer_external_id,
        payment_external_id,
        {{ statement_number('period_start', 'customer_external_id') }} as external_invoice_id,
        period_start,
        transaction_date,
        allocated_amount

    from allocations

),

final as (

    select
        'ALLOC-' || payment_external_id || '-' || external_invoice_id as allocation_id,
        customer_external_id,
        payment_external_id,
        external_invoice_id,
        period_start,
        transaction_date,
        allocated_amount

    from numbered

)

select * from final
