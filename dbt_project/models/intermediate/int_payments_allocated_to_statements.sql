{#-
    The waterfall (docs/contract.md#allocation), as one merge of the two axes.

    Every statement end C(i) and every payment end Q(j) is a point on the
    customer's axis. Between two consecutive points lies a segment inside exactly
    one statement and one payment: the first of each whose end is at or beyond
    the segment's end. A (payment, statement) pair that overlaps shares exactly
    one such segment, of length max(0, min(C(i), Q(j)) - max(C(i-1), Q(j-1))).

    Which statement and payment, without searching: walking the points in order,
    a statement end at row r of the walk has its own statement_seq i, and the
    r - i rows before it that are payment ends say that payment r - i + 1 is the
    one it falls in; a payment end likewise. Row numbers and the previous point
    come from one sort per customer, O(n log n), on DuckDB and Postgres alike.
-#}

with

statements as (

    select * from {{ ref('int_statements_positioned') }}

),

payments as (

    select * from {{ ref('int_payments_positioned') }}

),

axis_points as (

    select
        customer_external_id,
        statement_end as point,
        1 as is_statement_end,
        statement_seq as seq

    from statements

    union all

    select
        customer_external_id,
        payment_end as point,
        0 as is_statement_end,
        payment_seq as seq

    from payments

),

segments as (

    -- Where ends coincide, payment ends come first: the later rows then get a
    -- segment of length 0 and only the last one the real segment. A payment of
    -- value 0 ends where the one before it did, so it never gets a segment.
    select
        customer_external_id,
        point - coalesce(lag(point) over axis_walk, 0) as segment_length,
        case
            when is_statement_end = 1 then seq
            else row_number() over axis_walk - seq + 1
        end as statement_seq,
        case
            when is_statement_end = 0 then seq
            else row_number() over axis_walk - seq + 1
        end as payment_seq

    from axis_points
    window axis_walk as (
        partition by customer_external_id
        order by point, is_statement_end, seq
    )

),

final as (

    -- Past the last statement a segment is unapplied payment, past the last
    -- payment it is still owed: neither finds a partner below.
    select
        payments.payment_external_id,
        segments.customer_external_id,
        payments.transaction_date,
        statements.period_start,
        {{ money('segments.segment_length') }} as allocated_amount

    from segments
    inner join statements
        on
            segments.customer_external_id = statements.customer_external_id
            and segments.statement_seq = statements.statement_seq
    inner join payments
        on
            segments.customer_external_id = payments.customer_external_id
            and segments.payment_seq = payments.payment_seq
    where segments.segment_length > 0

)

select * from final
