{{ config(materialized='table', restatements=False, partition_by='event_date', indexes=[{'columns': ['match_status']}, {'columns': ['event_date']}]) }}
-- One row per captured payment, refund and unmatched settlement line, with the match status of
-- rule R5: exactly one settlement line with the same reference, the same gross and currency,
-- settled within settlement_window_days of the business date.
with charges as (
  select gateway_txn_ref, count(*) as lines, sum(gross) as gross, min(currency) as currency,
         max(currency) as other_currency, max(settled_on) as settled_on, min(transaction_at) as transaction_at,
         min(transaction_at_alt) as transaction_at_alt
  from {{ ref('dwd_gateway_settlements') }}
  where line_type = 'charge'
  group by gateway_txn_ref
),
refund_lines as (
  select gateway_refund_ref, count(*) as lines, sum(gross) as gross, min(currency) as currency,
         max(currency) as other_currency, max(settled_on) as settled_on, min(transaction_at) as transaction_at,
         min(transaction_at_alt) as transaction_at_alt
  from {{ ref('dwd_gateway_settlements') }}
  where line_type = 'refund'
  group by gateway_refund_ref
),
payments as (
  select p.*, o.merchant_id
  from {{ ref('dwd_payments') }} p
  left join {{ ref('dwd_orders') }} o on o.order_id = p.order_id
  where p.status = 'captured'
),
refunds as (
  select r.*, p.gateway, o.merchant_id
  from {{ ref('dwd_refunds') }} r
  left join {{ ref('dwd_payments') }} p on p.payment_id = r.payment_id
  left join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
)
select 'payment' as entity_type, p.payment_id::text as entity_key, p.gateway, p.gateway_txn_ref as gateway_ref,
       p.merchant_id, p.currency, p.biz_date as event_date, p.captured_at as event_at,
       p.amount::numeric(18,2) as expected_amount, coalesce(l.gross, 0)::numeric(18,2) as actual_amount,
       (coalesce(l.gross, 0) - p.amount)::numeric(18,2) as diff_amount,
       l.settled_on, l.transaction_at, l.transaction_at_alt,
       case when l.gateway_txn_ref is null and p.biz_date + {{ var('settlement_window_days') }}
                 > coalesce(nullif('{{ var('files_complete_through') }}', '')::date, 'infinity'::date) then 'pending_settlement'
            when l.gateway_txn_ref is null then 'missing_settlement'
            when l.currency <> p.currency or l.other_currency <> p.currency then 'currency_mismatch'
            when l.lines <> 1 or l.gross <> p.amount then 'amount_mismatch'
            when l.settled_on - p.biz_date > {{ var('settlement_window_days') }} then 'late_settlement'
            else 'matched' end as match_status
from payments p
left join charges l on l.gateway_txn_ref = p.gateway_txn_ref
union all
select 'refund', r.refund_id::text, r.gateway, r.gateway_refund_ref, r.merchant_id, r.currency, r.biz_date, r.refunded_at,
       -r.amount, coalesce(l.gross, 0), coalesce(l.gross, 0) + r.amount, l.settled_on, l.transaction_at, l.transaction_at_alt,
       case when l.gateway_refund_ref is null and r.biz_date + {{ var('settlement_window_days') }}
                 > coalesce(nullif('{{ var('files_complete_through') }}', '')::date, 'infinity'::date) then 'pending_settlement'
            when l.gateway_refund_ref is null then 'missing_settlement'
            when l.currency <> r.currency or l.other_currency <> r.currency then 'currency_mismatch'
            when l.lines <> 1 or l.gross <> -r.amount then 'amount_mismatch'
            when l.settled_on - r.biz_date > {{ var('settlement_window_days') }} then 'late_settlement'
            else 'matched' end
from refunds r
left join refund_lines l on l.gateway_refund_ref = r.gateway_refund_ref
union all
select 'settlement_line', coalesce(s.gateway_refund_ref, s.gateway_txn_ref), s.gateway, s.gateway_txn_ref, null::bigint,
       s.currency, s.settled_on, s.transaction_at, 0::numeric(18,2), s.gross, s.gross, s.settled_on, s.transaction_at,
       s.transaction_at_alt, 'orphan_settlement'
from {{ ref('dwd_gateway_settlements') }} s
where (s.line_type = 'charge' and not exists (select 1 from {{ ref('dwd_payments') }} p where p.gateway_txn_ref = s.gateway_txn_ref))
   or (s.line_type = 'refund' and not exists (select 1 from {{ ref('dwd_refunds') }} r where r.gateway_refund_ref = s.gateway_refund_ref))
