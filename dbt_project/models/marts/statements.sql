{#-
    Statement fields of docs/contract.md#statement-fields. Payments fill the
    customer's axis from 0 to their total, so a statement is paid where it lies
    under them:
    paid_amount = max(0, min(C(i), total paid) - C(i-1)), which is the sum of its
    allocations (a data test checks the two agree).
-#}

with

statements as (

    select * from {{ ref('int_statements_positioned') }}

),

customer_payments as (

    {{ payments_total_by_customer(ref('int_payments_positioned')) }}

),

paid_statements as (

    select
        statements.customer_external_id,
        statements.period_start,
        statements.amount,
        greatest(
            0,
            least(statements.statement_end, coalesce(customer_payments.payments_total, 0))
            - statements.statement_start
        ) as paid_amount

    from statements
    left join customer_payments
        on statements.customer_external_id = customer_payments.customer_external_id

),

final as (

    select
        {{ statement_number('period_start', 'customer_external_id') }} as external_invoice_id,
        customer_external_id,
        period_start,
        cast({{ dbt.last_day('period_start', 'month') }} as date) as period_end,
        period_start as issue_date,
        cast({{ dbt.dateadd('day', 180, 'period_start') }} as date) as due_date,
        {{ money('amount') }} as amount,
        {{ money('paid_amount') }} as paid_amount,
        {{ money('amount - paid_amount') }} as outstanding

    from paid_statements

)

select * from final
