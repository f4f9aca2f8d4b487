{{ config(materialized='table', partition_by='month_start', indexes=[{'columns': ['gateway', 'currency', 'month_start']}]) }}
-- Per gateway, currency and business month: captured, refunded, settled and paid out. Bucketed
-- from the detail on its own (not summed from dws_gateway_daily), so the roll-up check between the
-- two means something; a late settlement file changes its day and its month.
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
select gateway, currency, date_trunc('month', biz_date)::date as month_start,
       sum(captured_amount)::numeric(18,2) as captured_amount, sum(refund_amount)::numeric(18,2) as refund_amount,
       sum(settled_gross)::numeric(18,2) as settled_gross, sum(settled_fees)::numeric(18,2) as settled_fees, sum(settled_net)::numeric(18,2) as settled_net,
       sum(payout_amount)::numeric(18,2) as payout_amount
from events
where biz_date is not null
group by gateway, currency, date_trunc('month', biz_date)::date
