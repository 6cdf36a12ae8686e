with

source as (

    select * from {{ source('normalized', 'ledger_entries') }}
    {%- if var('practice_id', '') %}
    -- One practice's run (a Dagster partition): its rows only, into its own schema.
    where practice_id = '{{ var("practice_id") }}'
    {%- endif %}

),

final as (

    select
        external_id,
        customer_external_id,
        cast(transaction_date as date) as transaction_date,
        transaction_type,
        {{ money('amount') }} as amount,
        {{ money('amount_paid') }} as amount_paid,
        {{ money('estimated_insurance') }} as estimated_insurance,
        payment_link_id,
        procedure_code,
        description,
        loaded_at

    from source

)

select * from final
