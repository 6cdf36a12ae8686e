{#-
    A per-customer identity of docs/contract.md#identities, to the cent: the values of a
    customer's ledger entries of `entry_types` (each `entry_value`) add up to the sum of
    `part_value` over the customer's rows of `parts`, plus `balance`, a column of `model`
    (one row per customer). Returns the customers where it does not hold, with no row in
    `model`, or whose balance is one that `balance_breaks` (when given) refuses.
    Called with its arguments in three groups, one per side of the identity: the
    customers' balance, the ledger's entries, the parts.
-#}

{% macro customer_identity(
    model, balance, ledger, entry_types, entry_value, parts, part_value, balance_breaks=none
) %}

with

from_ledger as (

    select
        customer_external_id,
        sum({{ entry_value }}) as ledger_total

    from {{ ledger }}
    where transaction_type in {{ entry_types }}
    group by customer_external_id

),

from_parts as (

    select
        customer_external_id,
        sum({{ part_value }}) as parts_total

    from {{ parts }}
    group by customer_external_id

),

compared as (

    select
        coalesce(
            from_ledger.customer_external_id,
            from_parts.customer_external_id,
            customers.customer_external_id
        ) as customer_external_id,
        coalesce(from_ledger.ledger_total, 0) as ledger_total,
        coalesce(from_parts.parts_total, 0) as parts_total,
        customers.{{ balance }}

    from from_ledger
    full outer join from_parts
        on from_ledger.customer_external_id = from_parts.customer_external_id
    full outer join {{ model }} as customers
        on coalesce(from_ledger.customer_external_id, from_parts.customer_external_id)
        = customers.customer_external_id

),

final as (

    select *
    from compared
    where
        {{ balance }} is null
        {%- if balance_breaks %}
        or {{ balance_breaks }}
        {%- endif %}
        or ledger_total <> parts_total + {{ balance }}

)

select * from final

{% endmacro %}
