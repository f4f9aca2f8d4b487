{{ config(materialized='table', partition_by='month_start', unique_key=['gateway', 'currency', 'month_start'], indexes=[{'columns': ['gateway', 'currency', 'month_start'], 'unique': True}], role='gateway_bridge') }}
-- Per gateway, currency and month: the bridge from what was sold to what was paid out, with its
-- timing items. sales (the amount due of the orders captured in the month, each order once) +
-- captured_beyond_sales (duplicate captures, captures of another amount) = captured;
-- captured - captured_settled_later + settled_for_earlier + refunds_settled
-- + unexplained = settled_gross; settled_gross - fees = settled_net; settled_net - paid_out =
-- in_transit. Captures are placed in their business month, settlement lines in the month of their
-- settlement day, payouts in the month they were paid. Each side's own currency is used (a line
-- settled in another currency is unexplained in both).
with timing as (
  -- per capture month and the month its first charge line settled (none: null), from the captures
  -- of each day (dws_capture_timing), whose sales carry the order's amount due on its first capture
  -- of the month
  select gateway, currency, month_start, settled_month, sum(amount) as amount, sum(sales) as sales
  from {{ ref('dws_capture_timing') }}
  group by 1, 2, 3, 4
),
captured as (
  select gateway, currency, month_start, sum(amount) as captured, coalesce(sum(sales), 0) as sales,
         coalesce(sum(amount) filter (where settled_month is null or settled_month > month_start), 0) as captured_settled_later
  from timing group by 1, 2, 3
),
earlier as (
  select gateway, currency, settled_month as month_start, sum(amount) as settled_for_earlier
  from timing where settled_month > month_start group by 1, 2, 3
),
-- settlement lines by the month of their settlement day and payouts by the month they were paid:
-- the gateway months dws_gateway_monthly keeps (a grouping of a few rows, not of every line)
monthly as (
  select gateway, upper(currency) as currency, month_start, sum(settled_gross) as settled_gross, sum(settled_fees) as fees,
         sum(settled_net) as settled_net, sum(settled_refunds) as refunds_settled, sum(payout_amount) as paid_out,
         bool_or(settled_gross <> 0 or settled_fees <> 0 or settled_net <> 0) as settled,
         bool_or(payout_amount <> 0) as paid
  from {{ ref('dws_gateway_monthly') }} group by 1, 2, 3
),
lines as (select gateway, currency, month_start, settled_gross, fees, settled_net, refunds_settled from monthly where settled),
payouts as (select gateway, currency, month_start, paid_out from monthly where paid),
keys as (
  select gateway, currency, month_start from captured
  union select gateway, currency, month_start from earlier
  union select gateway, currency, month_start from lines
  union select gateway, currency, month_start from payouts
)
select k.gateway, k.currency, k.month_start,
       coalesce(c.sales, 0)::numeric(18,2) as sales,
       (coalesce(c.captured, 0) - coalesce(c.sales, 0))::numeric(18,2) as captured_beyond_sales,
       coalesce(c.captured, 0)::numeric(18,2) as captured,
       coalesce(c.captured_settled_later, 0)::numeric(18,2) as captured_settled_later,
       coalesce(e.settled_for_earlier, 0)::numeric(18,2) as settled_for_earlier,
       coalesce(l.refunds_settled, 0)::numeric(18,2) as refunds_settled,
       (coalesce(l.settled_gross, 0) - (coalesce(c.captured, 0) - coalesce(c.captured_settled_later, 0)
         + coalesce(e.settled_for_earlier, 0) + coalesce(l.refunds_settled, 0)))::numeric(18,2) as unexplained,
       coalesce(l.settled_gross, 0)::numeric(18,2) as settled_gross,
       coalesce(l.fees, 0)::numeric(18,2) as fees,
       coalesce(l.settled_net, 0)::numeric(18,2) as settled_net,
       coalesce(p.paid_out, 0)::numeric(18,2) as paid_out,
       (coalesce(l.settled_net, 0) - coalesce(p.paid_out, 0))::numeric(18,2) as in_transit
from keys k
left join captured c using (gateway, currency, month_start)
left join earlier e using (gateway, currency, month_start)
left join lines l using (gateway, currency, month_start)
left join payouts p using (gateway, currency, month_start)
