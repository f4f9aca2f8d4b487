{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['order_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['(captures > 1 or voucher_discount <> redeemed or refunded > captured)']}], distributed_by='order_id') }}
-- Per order: what it asks for and what moved against it (captured payments, refunds, voucher
-- redemptions), the figures of rules R1 to R3 that ads_breaks_orders reads. Incremental: the
-- orders with an order, payment, refund or redemption row loaded since the last build, recomputed
-- from all their rows. Money moving against an order of a closed day (a refund weeks later) is the
-- normal course, not a restatement of that day.
with affected as (
  {% if is_incremental() %}
  select order_id from {{ ref('dwd_orders') }} where _loaded_at > {{ last_loaded() }}
  union select order_id from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}
  union select order_id from {{ ref('dwd_refunds') }} where _loaded_at > {{ last_loaded() }}
  union select order_id from {{ ref('dwd_voucher_redemptions') }} where _loaded_at > {{ last_loaded() }}
  {% else %}
  select null::bigint as order_id where false
  {% endif %}
),
captured as (
  select order_id, count(*) as captures, sum(amount) as captured, max(_loaded_at) as _loaded_at
  from {{ ref('dwd_payments') }} where status = 'captured'
  {% if is_incremental() %}and order_id in (select order_id from affected){% endif %}
  group by order_id
),
refunded as (
  select order_id, sum(amount) as refunded, max(_loaded_at) as _loaded_at from {{ ref('dwd_refunds') }}
  {% if is_incremental() %}where order_id in (select order_id from affected){% endif %}
  group by order_id
),
redeemed as (
  select order_id, sum(amount) as redeemed, max(_loaded_at) as _loaded_at from {{ ref('dwd_voucher_redemptions') }}
  {% if is_incremental() %}where order_id in (select order_id from affected){% endif %}
  group by order_id
)
select o.order_id, o.merchant_id, o.currency, o.biz_date, o.customer_paid, o.voucher_discount,
       coalesce(c.captures, 0) as captures, coalesce(c.captured, 0) as captured,
       coalesce(r.refunded, 0) as refunded, coalesce(v.redeemed, 0) as redeemed,
       greatest(o._loaded_at, c._loaded_at, r._loaded_at, v._loaded_at) as _loaded_at
from {{ ref('dwd_orders') }} o
left join captured c on c.order_id = o.order_id
left join refunded r on r.order_id = o.order_id
left join redeemed v on v.order_id = o.order_id
{% if is_incremental() %}where o.order_id in (select order_id from affected){% endif %}
