{#-
    One axis of the waterfall (docs/contract.md#allocation): each customer's rows of
    `relation` laid end to end in `order_by` order. Row i, {name}_seq, covers
    [{name}_start, {name}_end), its end the running sum of `amount` up to it. The
    statements and the payments are laid out alike; only their rows and order differ.
    Keeps `columns` of `relation`, in their order, before the three of the axis.
-#}

{% macro laid_end_to_end(relation, columns, amount, order_by, name) -%}
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        {{ name }}_seq,
        {{ axis_position(name ~ '_end - ' ~ amount) }} as {{ name }}_start,
        {{ axis_position(name ~ '_end') }} as {{ name }}_end

    from (

        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            row_number() over in_order as {{ name }}_seq,
            sum({{ amount }}) over in_order as {{ name }}_end

        from {{ relation }}
        window in_order as (
            partition by customer_external_id
            order by {{ order_by }}
            rows between unbounded preceding and current row
        )

    ) as running

{%- endmacro %}

{#- What each customer paid in all: the sum of the values of its payments. -#}

{% macro payments_total_by_customer(payments) -%}
    select
        customer_external_id,
        sum(payment_amount) as payments_total

    from {{ payments }}
    group by customer_external_id
{%- endmacro %}
