{#-
    docs/contract.md#identities: a later statement receives money only when every
    earlier one is fully paid. Statements have positive amounts, so it is enough
    to look at each statement and the one just before it: a statement with money
    has a fully paid predecessor, which had money, so its own predecessor is
    fully paid, and so on back to the first. Returns the statements that received
    money while the one before them was still owed.
-#}

{% test paid_oldest_first(model) %}

with

with_predecessor as (

    select
        customer_external_id,
        period_start,
        paid_amount,
        lag(outstanding) over (
            partition by customer_external_id
            order by period_start
        ) as predecessor_outstanding

    from {{ model }}

),

final as (

    select *
    from with_predecessor
    where paid_amount > 0 and predecessor_outstanding > 0

)

select * from final

{% endtest %}
