{{ config(materialized='incremental', unique_key=['side', 'entity_key'], incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['side', 'entity_key'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['order_id']}, {'columns': ['matched', 'side']}]) }}
-- Rule R10's matching, one row per reseller sale (side 'sale', keyed by txn_id: whether a reseller
-- order of its order_id has its amount and currency) and per paid reseller order (side 'order',
-- keyed by order_id: whether any sale names it). The reseller breaks read the few rows that did
-- not match instead of anti-joining every sale and every reseller order each build.
-- Incremental: the sales and paid reseller orders of every order_id that a sale or a reseller
-- order loaded since names, matched again (a sale's order may come after it, and the other way).
with touched as (
  {% if is_incremental() %}
  select order_id from {{ ref('dwd_orders') }} where _loaded_at > {{ last_loaded() }} and channel = 'reseller'
  union select order_id from {{ ref('dwd_reseller_sales') }} where _loaded_at > {{ last_loaded() }} and order_id is not null
  {% else %}
  select null::bigint as order_id where false
  {% endif %}
)

-- (Tables joined to tables, not CTEs to CTEs, which have no index to probe: with the small
-- estimates of rows merged earlier in the run the planner may nest such a join, and a first
-- version took 61 s for a day's reseller files at 10,000,000 orders. The reseller orders are a
-- subquery, which Citus plans on its own: a reference table cannot be outer-joined to a
-- distributed one.)
select 'sale' as side, s.txn_id as entity_key, s.reseller_id, s.order_id, s.currency, s.amount, s.biz_date,
       (o.order_id is not null) as matched, greatest(s._loaded_at, o._loaded_at) as _loaded_at
from {{ ref('dwd_reseller_sales') }} s
left join (select order_id, gross_amount, currency, _loaded_at from {{ ref('dwd_orders') }}
           where channel = 'reseller'{% if is_incremental() %} and order_id in (select order_id from touched){% endif %}) o
       on o.order_id = s.order_id and o.gross_amount = s.amount and o.currency = s.currency
{% if is_incremental() %}
-- (the sales by txn_id from a union, not an OR of the two conditions, which no index answers)
where s.txn_id in (select txn_id from {{ ref('dwd_reseller_sales') }} where _loaded_at > {{ last_loaded() }}
                   union all
                   select txn_id from {{ ref('dwd_reseller_sales') }} where order_id in (select order_id from touched))
{% endif %}
union all
-- an order is matched by a sale of any amount that names it
select 'order', o.order_id::text, o.reseller_id, o.order_id, o.currency, o.gross_amount, o.biz_date,
       count(s.txn_id) > 0, greatest(o._loaded_at, max(s._loaded_at))
from {{ ref('dwd_orders') }} o
left join {{ ref('dwd_reseller_sales') }} s on s.order_id = o.order_id
where o.channel = 'reseller' and o.status = 'paid'
{% if is_incremental() %}
  and o.order_id in (select order_id from touched)
{% endif %}
group by o.order_id, o.reseller_id, o.currency, o.gross_amount, o.biz_date, o._loaded_at
