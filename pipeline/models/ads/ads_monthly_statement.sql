{{ config(materialized='table', partition_by='month_start', indexes=[{'columns': ['merchant_id', 'currency', 'month_start'], 'unique': True}], distributed_by='merchant_id', role='monthly_statement') }}
-- Per merchant account and month: opening balance, what moved, closing balance.
with months as (
  select merchant_id, currency, date_trunc('month', biz_date)::date as month_start,
         min(biz_date) as first_day, max(biz_date) as last_day,
         sum(net_payable) as net_payable, sum(payouts) as payouts
  from {{ ref('ads_merchant_balance_daily') }}
  group by 1, 2, 3
)
select m.merchant_id, m.currency, m.month_start,
       o.opening_balance,
       coalesce(s.order_count, 0) as order_count,
       coalesce(s.gross_sales, 0)::numeric(18,2) as gross_sales,
       coalesce(s.merchant_discount, 0)::numeric(18,2) as merchant_discount,
       coalesce(s.platform_discount, 0)::numeric(18,2) as platform_discount,
       coalesce(s.refund_amount, 0)::numeric(18,2) as refund_amount,
       coalesce(s.commission_amount, 0)::numeric(18,2) as commission_amount,
       m.net_payable::numeric(18,2) as net_payable, m.payouts::numeric(18,2) as payouts,
       c.closing_balance
from months m
join {{ ref('ads_merchant_balance_daily') }} o
  on o.merchant_id = m.merchant_id and o.currency = m.currency and o.biz_date = m.first_day
join {{ ref('ads_merchant_balance_daily') }} c
  on c.merchant_id = m.merchant_id and c.currency = m.currency and c.biz_date = m.last_day
left join {{ ref('dws_merchant_monthly') }} s
  on s.merchant_id = m.merchant_id and s.currency = m.currency and s.month_start = m.month_start
