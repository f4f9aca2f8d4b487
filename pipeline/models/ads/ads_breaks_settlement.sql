{{ config(materialized='view') }}
-- Breaks of the gateways' own figures (rules R6, R7): fees off the schedule, payouts that differ
-- from the net of their batch. One family of ads_recon_breaks.
with fee_schedule as (
  select gateway, applies_to, component, percent, fixed_amount from {{ ref('gateway_fee_schedule') }}
),
line_fees as (
  select s.*,
         coalesce((select sum(round(s.gross * f.percent::numeric / 100, 2) + f.fixed_amount::numeric)
                   from fee_schedule f where f.gateway = s.gateway and f.applies_to = s.line_type), 0) as expected_fee
  from {{ ref('dwd_gateway_settlements') }} s
  where s.line_type in ('charge', 'refund')
),
batch_net as (
  select gateway, batch_id, min(currency) as currency, sum(net) as net, max(settled_on) as settled_on
  from {{ ref('dwd_gateway_settlements') }} group by gateway, batch_id
),
breaks as (
  {{ no_breaks() }}
  union all
  select 'fee_mismatch', 'settlement_line', coalesce(l.gateway_refund_ref, l.gateway_txn_ref), null, l.gateway, l.currency,
         l.settled_on, l.expected_fee, l.fee, l.fee - l.expected_fee,
         case when l.net <> l.gross - l.fee then 'net ' || l.net || ' is not gross - fee' else 'fee differs from the schedule' end
  from line_fees l
  where l.fee <> l.expected_fee or l.net <> l.gross - l.fee
  union all
  select 'payout_mismatch', 'gateway_payout', coalesce(p.batch_id, b.batch_id), null, coalesce(p.gateway, b.gateway),
         coalesce(p.currency, b.currency), coalesce(p.paid_out_on, b.settled_on),
         coalesce(b.net, 0), coalesce(p.amount, 0), coalesce(p.amount, 0) - coalesce(b.net, 0),
         case when p.batch_id is null then 'no payout for the batch' else 'payout differs from the net of its lines' end
  from {{ ref('dwd_gateway_payouts') }} p
  full join batch_net b on b.gateway = p.gateway and b.batch_id = p.batch_id
  where coalesce(p.amount, 0) <> coalesce(b.net, 0)
)
select * from breaks
