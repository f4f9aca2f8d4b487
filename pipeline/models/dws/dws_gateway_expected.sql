{{ config(materialized='incremental', unique_key=['entity_type', 'entity_key'], incremental_strategy='delete+insert', restatements=False, partition_by='event_date', indexes=[{'columns': ['recon_key'], 'type': 'hash'}, {'columns': ['entity_type', 'entity_key']}, {'columns': ['_loaded_at']}], distributed_by='recon_key') }}
-- Our side of the gateway reconciliation (rule R5): every payment (of any status) and every refund
-- under the reference the gateway settles it by, recon_key (the capture's or refund's gateway
-- reference, else 'payment:' or 'refund:' and its id; dwd_gateway_settlements names its lines the
-- same way), with the order's merchant and a refund's gateway from its payment. ads_gateway_recon
-- matches these rows with the lines by recon_key; on Citus both are distributed on it, so the
-- matching runs within each shard, and this model's rows come from the orders' shards (a payment
-- or refund beside its order) by one repartitioned INSERT ... SELECT. Incremental: the payments
-- and refunds with a row of theirs, their payment's or their order's loaded since the last build;
-- _loaded_at is the latest of those rows'. (One select over the union, the order_id of each
-- branch in the same place, and no WITH in a full build: on Citus the statement runs on the order
-- shards and its rows move to their recon_key's shards between the workers.)
{% if is_incremental() %}
with payment_ids as (
  select payment_id from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}
  union select p.payment_id from {{ ref('dwd_payments') }} p
        join {{ ref('dwd_orders') }} o on o.order_id = p.order_id where o._loaded_at > {{ last_loaded() }}
),
refund_ids as (
  select refund_id from {{ ref('dwd_refunds') }} where _loaded_at > {{ last_loaded() }}
  union select r.refund_id from {{ ref('dwd_refunds') }} r
        join {{ ref('dwd_payments') }} p on p.order_id = r.order_id and p.payment_id = r.payment_id where p._loaded_at > {{ last_loaded() }}
  union select r.refund_id from {{ ref('dwd_refunds') }} r
        join {{ ref('dwd_orders') }} o on o.order_id = r.order_id where o._loaded_at > {{ last_loaded() }}
)
{% endif %}
select entity_type, entity_key, order_id, payment_id, gateway, gateway_ref, status, merchant_id, currency, event_date,
       event_at, amount, recon_key, _loaded_at
from (
select 'payment' as entity_type, p.payment_id::text as entity_key, p.order_id, p.payment_id, p.gateway,
       p.gateway_txn_ref as gateway_ref, p.status, o.merchant_id, p.currency, p.biz_date as event_date,
       p.captured_at as event_at, p.amount::numeric(18,2) as amount,
       coalesce(p.gateway_txn_ref, 'payment:' || p.payment_id) as recon_key,
       greatest(p._loaded_at, o._loaded_at) as _loaded_at
from {{ ref('dwd_payments') }} p
left join {{ ref('dwd_orders') }} o on o.order_id = p.order_id
{% if is_incremental() %}where p.payment_id in (select payment_id from payment_ids){% endif %}
union all
select 'refund', r.refund_id::text, r.order_id, r.payment_id, p.gateway, r.gateway_refund_ref, null::text, o.merchant_id,
       r.currency, r.biz_date, r.refunded_at, r.amount::numeric(18,2),
       coalesce(r.gateway_refund_ref, 'refund:' || r.refund_id),
       greatest(r._loaded_at, p._loaded_at, o._loaded_at)
from {{ ref('dwd_refunds') }} r
left join {{ ref('dwd_payments') }} p on p.order_id = r.order_id and p.payment_id = r.payment_id
left join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
{% if is_incremental() %}where r.refund_id in (select refund_id from refund_ids){% endif %}
) ours
