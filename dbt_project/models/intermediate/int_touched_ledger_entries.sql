{#-
    The ledger entries of the customers this run recomputes: every entry on a full
    build. A view, so that nothing is copied; the models after it read it once each.
-#}

{{ config(materialized='view') }}

with

touched_customers as (

    select customer_external_id from {{ ref('int_touched_customers') }}

),

final as (

    select ledger_entries.*
    from {{ ref('stg_ledger_entries') }} as ledger_entries
    where ledger_entries.customer_external_id in (
        select customer_external_id from touched_customers
    )

)

select * from final
