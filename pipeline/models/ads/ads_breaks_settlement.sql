{{ config(materialized='view') }}
-- Breaks of the gateways' own figures (rules R6, R7): fees off the schedule, payouts that differ
-- from the net of their batch. One family of ads_recon_breaks, read from the expected fee DWD
-- keeps per line and the batch totals DWS keeps.
-- (whose line it is: the merchant of each breaking line's capture or refund reference, looked up
-- once per reference and only for the lines that break, not per line nor for every payment: the
-- same merchant, in a form a distributed warehouse plans across its workers. Looked up in
-- dws_gateway_expected, which keeps each payment and refund under its reference with its order's
-- merchant and is indexed on it, so dwd_payments and dwd_refunds keep no index on their gateway
-- references: at 10,000,000 orders each new payment put a random page of one into every hour)
-- (the lines off the schedule are read by dwd_gateway_settlements' index on that condition)
with fee_lines as (
  select l.* from {{ ref('dwd_gateway_settlements') }} l
  where l.line_type in ('charge', 'refund') and (l.fee <> l.expected_fee or l.net <> l.gross - l.fee)
),
line_merchants as (
  select 'charge' as line_type, e.gateway_ref as ref, min(e.merchant_id) as merchant_id
  from {{ ref('dws_gateway_expected') }} e
  where e.entity_type = 'payment'
    and e.recon_key in (select gateway_txn_ref from fee_lines where line_type = 'charge') and e.gateway_ref = e.recon_key
  group by e.gateway_ref
  union all
  select 'refund', e.gateway_ref, min(e.merchant_id)
  from {{ ref('dws_gateway_expected') }} e
  where e.entity_type = 'refund'
    and e.recon_key in (select gateway_refund_ref from fee_lines where line_type = 'refund') and e.gateway_ref = e.recon_key
  group by e.gateway_ref
),
breaks as (
  {{ no_breaks() }}
  union all
  -- whose money it is: the merchant of the order the line's capture or refund belongs to
  select 'fee_mismatch', 'settlement_line', coalesce(l.gateway_refund_ref, l.gateway_txn_ref), m.merchant_id,
         l.gateway, l.currency,
         l.settled_on, l.expected_fee, l.fee, l.fee - l.expected_fee,
         case when l.net <> l.gross - l.fee then 'net ' || l.net || ' is not gross - fee' else 'fee differs from the schedule' end
  from fee_lines l
  left join line_merchants m on m.line_type = l.line_type
                            and m.ref = case l.line_type when 'charge' then l.gateway_txn_ref else l.gateway_refund_ref end
  union all
  select 'payout_mismatch', 'gateway_payout', coalesce(p.batch_id, b.batch_id), null, coalesce(p.gateway, b.gateway),
         coalesce(p.currency, b.currency), coalesce(p.paid_out_on, b.settled_on),
         coalesce(b.net, 0), coalesce(p.amount, 0), coalesce(p.amount, 0) - coalesce(b.net, 0),
         case when p.batch_id is null then 'no payout for the batch' else 'payout differs from the net of its lines' end
  from {{ ref('dwd_gateway_payouts') }} p
  full join {{ ref('dws_gateway_batches') }} b on b.gateway = p.gateway and b.batch_id = p.batch_id
  where coalesce(p.amount, 0) <> coalesce(b.net, 0)
)
select * from breaks
