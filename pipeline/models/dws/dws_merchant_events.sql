{{ config(materialized='incremental', unique_key=['event_type', 'event_id'], incremental_strategy='delete+insert', indexes=[{'columns': ['event_type', 'event_id'], 'unique': True}, {'columns': ['_loaded_at']}], distributed_by='merchant_id') }}
-- Every money event of a merchant at its own time: orders by created_at (cancelled excluded),
-- captures by captured_at, refunds by refunded_at, commissions by charged_at. Each grain below
-- buckets these on its own, so the roll-ups can be checked against each other (R9).
-- Incremental: the events of rows loaded since the last build (a capture or refund also when its
-- order came after it: the order names the merchant). An event, once there, never changes.
-- Every branch carries its order_id first, though the model keeps none: Citus runs a UNION ALL of
-- tables distributed on order_id on the workers only when each branch has it in the same place,
-- and then moves the events to their merchant's shard between the workers.
select event_type, event_id, merchant_id, currency, event_at, order_count, gross_sales, merchant_discount,
       platform_discount, customer_paid, captured_amount, refund_amount, commission_amount, _loaded_at
from (
select o.order_id, 'order' as event_type, o.order_id as event_id, o.merchant_id, o.currency, o.created_at as event_at,
       1 as order_count, o.gross_amount as gross_sales, o.merchant_discount, o.platform_discount, o.customer_paid,
       0::numeric(18,2) as captured_amount, 0::numeric(18,2) as refund_amount, 0::numeric(18,2) as commission_amount,
       o._loaded_at
from {{ ref('dwd_orders') }} o
where o.status <> 'cancelled'
{% if is_incremental() %}
  and o._loaded_at > {{ last_loaded() }}
{% endif %}
union all
select o.order_id, 'capture', p.payment_id, o.merchant_id, p.currency, p.captured_at, 0, 0, 0, 0, 0, p.amount, 0, 0,
       greatest(p._loaded_at, o._loaded_at)
from {{ ref('dwd_payments') }} p
join {{ ref('dwd_orders') }} o on o.order_id = p.order_id
where p.status = 'captured'
{% if is_incremental() %}
  and p.payment_id in (select payment_id from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}
                       union all
                       select n.payment_id from {{ ref('dwd_payments') }} n
                       join {{ ref('dwd_orders') }} m on m.order_id = n.order_id where m._loaded_at > {{ last_loaded() }})
{% endif %}
union all
select o.order_id, 'refund', r.refund_id, o.merchant_id, r.currency, r.refunded_at, 0, 0, 0, 0, 0, 0, r.amount, 0,
       greatest(r._loaded_at, o._loaded_at)
from {{ ref('dwd_refunds') }} r
join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
{% if is_incremental() %}
where r.refund_id in (select refund_id from {{ ref('dwd_refunds') }} where _loaded_at > {{ last_loaded() }}
                      union all
                      select n.refund_id from {{ ref('dwd_refunds') }} n
                      join {{ ref('dwd_orders') }} m on m.order_id = n.order_id where m._loaded_at > {{ last_loaded() }})
{% endif %}
union all
select c.order_id, 'commission', c.commission_id, c.merchant_id, c.currency, c.charged_at, 0, 0, 0, 0, 0, 0, 0, c.amount, c._loaded_at
from {{ ref('dwd_commissions') }} c
{% if is_incremental() %}
where c._loaded_at > {{ last_loaded() }}
{% endif %}
) events
