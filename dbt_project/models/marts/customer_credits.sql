{#-
    Where each customer's money went (docs/contract.md#credits, and the identities
    of docs/contract.md#identities): billable amounts split into statements and
    months that do not qualify, payments split into what the waterfall allocated
    and what is left unapplied. Payments are
    allocated oldest statement first until either runs out, so a customer's
    allocated amount is the smaller of the two totals.
-#}

with

customer_months as (

    select * from {{ ref('int_customer_months_netted') }}

),

billing as (

    select
        customer_external_id,
        sum(net_amount) as billed_amount,
        sum(case when net_amount > 0 then net_amount else 0 end) as statement_amount,
        sum(case when net_amount <= 0 then 1 else 0 end) as non_qualifying_months,
        sum(case when net_amount <= 0 then net_amount else 0 end) as non_qualifying_net

    from customer_months
    group by customer_external_id

),

paying as (

    {{ payments_total_by_customer(ref('int_payments_positioned')) }}

),

customers as (

    select
        coalesce(billing.customer_external_id, paying.customer_external_id)
            as customer_external_id,
        coalesce(billing.billed_amount, 0) as billed_amount,
        coalesce(billing.statement_amount, 0) as statement_amount,
        coalesce(billing.non_qualifying_months, 0) as non_qualifying_months,
        coalesce(billing.non_qualifying_net, 0) as non_qualifying_net,
        coalesce(paying.payments_total, 0) as payments_total

    from billing
    full outer join paying
        on billing.customer_external_id = paying.customer_external_id

),

final as (

    select
        customer_external_id,
        {{ money('billed_amount') }} as billed_amount,
        {{ money('statement_amount') }} as statement_amount,
        cast(non_qualifying_months as integer) as non_qualifying_months,
        {{ money('non_qualifying_net') }} as non_qualifying_net,
        {{ money('payments_total') }} as payments_total,
        {{ money('least(statement_amount, payments_total)') }} as allocated_amount,
        {{ money('payments_total - least(statement_amount, payments_total)') }}
            as unapplied_payments

    from customers

)

select * from final
