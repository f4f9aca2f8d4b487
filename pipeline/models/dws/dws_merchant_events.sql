{{ config(materialized='table', distributed_by='merchant_id') }}
-- Every money event of a merchant at its own time: orders by created_at (cancelled excluded),
-- captures by captured_at, refunds by refunded_at, commissions by charged_at. Each grain below
-- buckets these on its own, so the roll-ups can be checked against each other (R9).
select o.merchant_id, o.currency, o.created_at as event_at,
       1 as order_count, o.gross_amount as gross_sales, o.merchant_discount, o.platform_discount, o.customer_paid,
       0::numeric(18,2) as captured_amount, 0::numeric(18,2) as refund_amount, 0::numeric(18,2) as commission_amount
from {{ ref('dwd_orders') }} o
where o.status <> 'cancelled'
union all
select o.merchant_id, p.currency, p.captured_at, 0, 0, 0, 0, 0, p.amount, 0, 0
from {{ ref('dwd_payments') }} p
join {{ ref('dwd_orders') }} o on o.order_id = p.order_id
where p.status = 'captured'
union all
select o.merchant_id, r.currency, r.refunded_at, 0, 0, 0, 0, 0, 0, r.amount, 0
from {{ ref('dwd_refunds') }} r
join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
union all
select c.merchant_id, c.currency, c.charged_at, 0, 0, 0, 0, 0, 0, 0, c.amount
from {{ ref('dwd_commissions') }} c
