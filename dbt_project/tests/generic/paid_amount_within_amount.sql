{#-
    docs/contract.md#identities, per statement: 0 <= paid_amount <= amount, with a
    positive amount (a month whose net is not positive has no statement) and
    outstanding = amount - paid_amount. Returns the statements that break it.
-#}

{% test paid_amount_within_amount(model) %}

select *
from {{ model }}
where
    amount <= 0
    or paid_amount < 0
    or paid_amount > amount
    or outstanding <> amount - paid_amount

{% endtest %}
