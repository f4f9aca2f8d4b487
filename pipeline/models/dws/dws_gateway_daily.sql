{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['gateway', 'currency', 'biz_date']}], role='gateway_daily') }}
-- Per gateway, currency and day: what we captured and refunded (business date), what the gateway
-- settled (settled_on) and paid out (paid_out_on).
with events as (
  select gateway, currency, biz_date, amount as captured_amount, 0::numeric(18,2) as refund_amount,
         0::numeric(18,2) as settled_gross, 0::numeric(18,2) as settled_fees, 0::numeric(18,2) as settled_net,
         0::numeric(18,2) as payout_amount
  from {{ ref('dwd_payments') }} where status = 'captured'
  union all
  select p.gateway, r.currency, r.biz_date, 0, r.amount, 0, 0, 0, 0
  from {{ ref('dwd_refunds') }} r join {{ ref('dwd_payments') }} p on p.payment_id = r.payment_id
  union all
  select gateway, currency, settled_on, 0, 0, gross, fee, net, 0
  from {{ ref('dwd_gateway_settlements') }}
  union all
  select gateway, currency, paid_out_on, 0, 0, 0, 0, 0, amount
  from {{ ref('dwd_gateway_payouts') }}
)
select gateway, currency, biz_date,
       sum(captured_amount)::numeric(18,2) as captured_amount, sum(refund_amount)::numeric(18,2) as refund_amount,
       sum(settled_gross)::numeric(18,2) as settled_gross, sum(settled_fees)::numeric(18,2) as settled_fees, sum(settled_net)::numeric(18,2) as settled_net,
       sum(payout_amount)::numeric(18,2) as payout_amount
from events
where biz_date is not null
group by gateway, currency, biz_date
