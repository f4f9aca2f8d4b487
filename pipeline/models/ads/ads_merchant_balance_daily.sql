{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'biz_date'], 'unique': True}], distributed_by='merchant_id', role='merchant_balance') }}
-- A row for every merchant account (merchant and currency) and every day of the data's range,
-- active or not: closing = opening + net_payable - payouts; the first day opens at 0 (R8).
with flows_by_day as (
  select merchant_id, currency, biz_date, net_payable, 0::numeric(18,2) as payouts from {{ ref('dws_merchant_daily') }}
  union all
  select merchant_id, currency, biz_date, 0, amount from {{ ref('dwd_merchant_payouts') }}
),
-- The range and the accounts read the two tables themselves, not flows_by_day: a CTE read more
-- than once is materialized, which on Citus gathers it on the coordinator; read once, the whole
-- statement runs on the workers, each merchant's days where its rows are.
bounds as (
  select min(first_day) as first_day, max(last_day) as last_day
  from (select min(biz_date) as first_day, max(biz_date) as last_day from {{ ref('dws_merchant_daily') }}
        union all
        select min(biz_date), max(biz_date) from {{ ref('dwd_merchant_payouts') }}) b
),
days as (
  select generate_series(first_day, last_day, interval '1 day')::date as biz_date from bounds
),
accounts as (
  select merchant_id, currency from {{ ref('dwd_merchants') }}
  union
  select merchant_id, currency from {{ ref('dws_merchant_daily') }}
  union
  select merchant_id, currency from {{ ref('dwd_merchant_payouts') }}
),
flows as (
  select a.merchant_id, a.currency, d.biz_date,
         coalesce(sum(f.net_payable), 0) as net_payable, coalesce(sum(f.payouts), 0) as payouts
  from accounts a
  cross join days d
  left join flows_by_day f on f.merchant_id = a.merchant_id and f.currency = a.currency and f.biz_date = d.biz_date
  group by a.merchant_id, a.currency, d.biz_date
)
select merchant_id, currency, biz_date,
       (sum(net_payable - payouts) over running - (net_payable - payouts))::numeric(18,2) as opening_balance,
       net_payable::numeric(18,2) as net_payable, payouts::numeric(18,2) as payouts,
       (sum(net_payable - payouts) over running)::numeric(18,2) as closing_balance
from flows
window running as (partition by merchant_id, currency order by biz_date rows between unbounded preceding and current row)
