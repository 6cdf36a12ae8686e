with

ledger_entries as (

    select * from {{ ref('int_touched_ledger_entries') }}

),

billable_entries as (

    select
        customer_external_id,
        cast({{ dbt.date_trunc('month', 'transaction_date') }} as date) as period_start,
        amount

    from ledger_entries
    where transaction_type in {{ billable_types() }}

),

final as (

    select
        customer_external_id,
        period_start,
        {{ money('sum(amount)') }} as net_amount,
        count(*) as billable_entries

    from billable_entries
    group by customer_external_id, period_start

)

select * from final
