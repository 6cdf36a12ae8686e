{#- A composite key: returns each combination of the columns that occurs more than once. -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}

with

keys as (

    select {{ combination_of_columns | join(', ') }}
    from {{ model }}

),

final as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences

    from keys
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from final

{% endtest %}
