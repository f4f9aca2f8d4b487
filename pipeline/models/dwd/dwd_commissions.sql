{{ config(materialized='incremental', unique_key='commission_id', incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['commission_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['(abs(amount - expected_amount) > 0.01)']}], distributed_by='order_id') }}
-- Commission charges (refund_id null) and reversals (negative), de-duplicated on commission_id by
-- dwd_unique_commissions, with the amount the rate says (rule R4: a charge is rate x (gross -
-- merchant discount), a reversal -rate x the refund; unknown while its order or refund is
-- missing). Incremental: the commissions with rows loaded since the last build, and those whose
-- order or refund came since.
-- _loaded_at stays the commission row's own: the event it makes for the merchant never changes.
-- The index on the rule's condition (at the default commission_tolerance, 0.01) lets
-- ads_breaks_orders read the few commissions off their rate instead of every commission.
with c as (
  select * from {{ ref('dwd_unique_commissions') }}
  {% if is_incremental() %}
  where commission_id in (
      select commission_id from {{ source('ods', 'ods_commissions') }} where _loaded_at > {{ last_loaded() }}
      union all
      select commission_id from {{ ref('dwd_unique_commissions') }}
      where order_id in (select order_id from {{ ref('dwd_orders') }} where _loaded_at > {{ last_loaded() }})
      union all
      select commission_id from {{ ref('dwd_unique_commissions') }}
      where refund_id in (select refund_id from {{ ref('dwd_refunds') }} where _loaded_at > {{ last_loaded() }}))
  {% endif %}
)
select c.commission_id, c.order_id, c.merchant_id, c.refund_id, c.base_amount, c.rate, c.amount, upper(c.currency) as currency, c.charged_at,
       {{ business_time('c.charged_at') }},
       c._source_file, c._source_line, c._loaded_at, c._copies,
       case when o.order_id is null then null
            when c.refund_id is null then round(c.rate * (o.gross_amount - o.merchant_discount), 2)
            else -round(c.rate * r.amount, 2) end as expected_amount
from c
left join {{ ref('dwd_orders') }} o on o.order_id = c.order_id
left join {{ ref('dwd_refunds') }} r on r.order_id = c.order_id and r.refund_id = c.refund_id
