{{ config(materialized='incremental', unique_key='payment_id', incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['payment_id'], 'unique': True}, {'columns': ['_loaded_at']}], distributed_by='order_id') }}
-- Per captured payment: its gateway, currency, business day and month, the month its first charge
-- line settled (null while none has), and the order's amount due on the order's first capture of
-- that gateway, currency and month (0 on the others), so that ads_gateway_bridge counts each order
-- once by summing. Incremental: every capture of the orders with an order or payment row loaded
-- since the last build or a capture that a charge line loaded since settles, and the captures
-- loaded since; recomputed from all their rows. A capture's row changes when its settlement
-- arrives, in the normal course, so a closed day's change is no restatement.
with affected as (
  {% if is_incremental() %}
  select order_id from {{ ref('dwd_orders') }} where _loaded_at > {{ last_loaded() }}
  union select order_id from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}
  union select p.order_id from {{ ref('dwd_payments') }} p
        join {{ ref('dwd_gateway_settlements') }} s on s.gateway_txn_ref = p.gateway_txn_ref and s.gateway = p.gateway
        where s._loaded_at > {{ last_loaded() }} and s.line_type = 'charge'
  {% else %}
  select null::bigint as order_id where false
  {% endif %}
),
captures as (
  select payment_id, order_id, gateway, currency, biz_date, date_trunc('month', biz_date)::date as month_start,
         amount, gateway_txn_ref, _loaded_at,
         row_number() over (partition by gateway, currency, date_trunc('month', biz_date), order_id order by payment_id) as nth
  from {{ ref('dwd_payments') }}
  where status = 'captured'
  {% if is_incremental() %}
    and payment_id in (select payment_id from {{ ref('dwd_payments') }} where order_id in (select order_id from affected)
                       union all
                       select payment_id from {{ ref('dwd_payments') }} where order_id is null and _loaded_at > {{ last_loaded() }})
  {% endif %}
),
charge_settled as (
  select gateway, gateway_txn_ref, min(settled_on) as settled_on, max(_loaded_at) as _loaded_at
  from {{ ref('dwd_gateway_settlements') }}
  where line_type = 'charge' and gateway_txn_ref is not null
  {% if is_incremental() %}and gateway_txn_ref in (select gateway_txn_ref from captures){% endif %}
  group by gateway, gateway_txn_ref
)
select c.payment_id, c.order_id, c.gateway, c.currency, c.biz_date, c.month_start,
       date_trunc('month', s.settled_on)::date as settled_month, c.amount::numeric(18,2) as amount,
       (case when c.nth = 1 then o.gross_amount - coalesce(o.voucher_discount, 0) else 0 end)::numeric(18,2) as sales,
       greatest(c._loaded_at, s._loaded_at, o._loaded_at) as _loaded_at
from captures c
left join charge_settled s on s.gateway = c.gateway and s.gateway_txn_ref = c.gateway_txn_ref
left join {{ ref('dwd_orders') }} o on o.order_id = c.order_id
