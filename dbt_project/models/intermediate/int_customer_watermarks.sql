{#-
    What the last complete build saw of each customer's ledger entries: how many
    there were and the latest loaded_at, as int_touched_customers read them at the
    start of that build. Built after the three marts, so it moves on only when they
    did: a build that fails before here is done again whole by the next run. The
    greatest last_loaded_at is the watermark.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unlogged=false,
        pre_hook="{{ delete_touched_customers() }}"
    )
}}

-- depends_on: {{ ref('statements') }}
-- depends_on: {{ ref('payment_allocations') }}
-- depends_on: {{ ref('customer_credits') }}

with

touched_customers as (

    select * from {{ ref('int_touched_customers') }}

),

final as (

    select
        customer_external_id,
        ledger_entries,
        last_loaded_at

    from touched_customers
    where ledger_entries > 0

)

select * from final
