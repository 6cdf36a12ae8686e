{#-
    The customers this run recomputes, with what their ledger holds now: how many
    entries, and the latest loaded_at among them.

    Every write to the ledger sets loaded_at to the time of the run that wrote it,
    voids included, and a practice's runs never overlap, so an entry written since
    the last build gives its customer a later latest loaded_at than
    int_customer_watermarks recorded. What the ledger no longer shows (an entry
    deleted, or moved to another customer) leaves its former customer with fewer
    entries than recorded, or with none. int_customer_watermarks is read by name: it
    is built after the marts, from this model's rows, so it is what the last
    complete build saw.
-#}

{%- set everything = rebuilds_everything() %}

with

ledger_customers as (

    select
        customer_external_id,
        count(*) as ledger_entries,
        max(loaded_at) as last_loaded_at

    from {{ ref('stg_ledger_entries') }}
    group by customer_external_id

),

{%- if everything %}

kept_customers as (

    -- The customers the kept tables hold already (none but after a dropped
    -- table): those no longer in the ledger lose their rows too.
    select customer_external_id from ledger_customers where 1 = 0
    {%- if not flags.FULL_REFRESH %}
    {%- for node in kept_models() %}
    {%- set kept = existing_relation_of(node) %}
    {%- if kept is not none %}
    union
    select customer_external_id from {{ kept }}
    {%- endif %}
    {%- endfor %}
    {%- endif %}

),

final as (

    select
        coalesce(
            ledger_customers.customer_external_id, kept_customers.customer_external_id
        ) as customer_external_id,
        ledger_customers.ledger_entries,
        ledger_customers.last_loaded_at

    from ledger_customers
    full outer join kept_customers
        on ledger_customers.customer_external_id = kept_customers.customer_external_id

)

{%- else %}

{%- set watermarks = graph.nodes['model.' ~ project_name ~ '.int_customer_watermarks'] %}

built as (

    select * from {{ existing_relation_of(watermarks) }}

),

final as (

    select
        coalesce(
            ledger_customers.customer_external_id, built.customer_external_id
        ) as customer_external_id,
        ledger_customers.ledger_entries,
        ledger_customers.last_loaded_at

    from ledger_customers
    full outer join built
        on ledger_customers.customer_external_id = built.customer_external_id
    where
        ledger_customers.customer_external_id is null
        or built.customer_external_id is null
        or ledger_customers.ledger_entries <> built.ledger_entries
        or ledger_customers.last_loaded_at <> built.last_loaded_at

)

{%- endif %}

select * from final
