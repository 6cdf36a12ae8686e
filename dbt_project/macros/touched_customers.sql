{#-
    The incremental build (docs in models/intermediate/int_touched_customers.yml).
    Everything about a customer depends on that customer's ledger entries only, so
    a run recomputes the customers whose entries changed since the last build
    (int_touched_customers) and replaces their rows in every kept table. The kept
    tables are the project's incremental models: the three marts and
    int_customer_watermarks, what the last build saw of each customer.
-#}

{#- The project's incremental models, as graph nodes (none while dbt parses). -#}
{% macro kept_models() -%}
    {%- set kept = [] -%}
    {%- if not execute -%}
        {{ return(kept) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and node.config.materialized == 'incremental' -%}
            {%- do kept.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kept | sort(attribute='name')) }}
{%- endmacro %}

{#- A kept model's table as it is in the database now, or none. -#}
{% macro existing_relation_of(node) -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}

{#-
    Whether this run recomputes every customer: with --full-refresh, and whenever a
    kept table is missing (the first build, a new practice's schema, a table
    dropped): what the others hold cannot be trusted to complete it. Decided by
    int_touched_customers, which every kept model comes after.
-#}
{% macro rebuilds_everything() -%}
    {%- if flags.FULL_REFRESH or not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- for node in kept_models() -%}
        {%- if existing_relation_of(node) is none -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#-
    Pre-hook of a kept model: on an incremental run, its rows of the touched
    customers go, in the transaction that inserts their new rows. A customer with
    no new rows (its entries all gone, its months no longer qualifying) so loses
    its old ones. int_touched_customers is named, not ref'd: every kept model comes
    after it through the models it reads, and the marts' unit tests need not mock it.
-#}
{% macro delete_touched_customers() -%}
    {%- if is_incremental() -%}
    {%- set touched = graph.nodes['model.' ~ project_name ~ '.int_touched_customers'] -%}
    delete from {{ this }}
    where customer_external_id in (
        select customer_external_id
        from {{ api.Relation.create(
            database=touched.database, schema=touched.schema, identifier=touched.alias
        ) }}
    )
    {%- endif -%}
{%- endmacro %}
