{#-
    docs/contract.md#billed-paid-and-outstanding: a statement's paid_amount is
    the sum of its allocations. Returns the statements whose paid amount differs,
    and allocations to statements that do not exist.
-#}

{% test paid_amount_matches_allocations(model, allocations) %}

with

allocated as (

    select
        external_invoice_id,
        sum(allocated_amount) as allocated_amount

    from {{ allocations }}
    group by external_invoice_id

),

compared as (

    select
        coalesce(statements.external_invoice_id, allocated.external_invoice_id)
            as external_invoice_id,
        statements.paid_amount,
        coalesce(allocated.allocated_amount, 0) as allocated_amount

    from {{ model }} as statements
    full outer join allocated
        on statements.external_invoice_id = allocated.external_invoice_id

),

final as (

    select *
    from compared
    where paid_amount is null or paid_amount <> allocated_amount

)

select * from final

{% endtest %}
