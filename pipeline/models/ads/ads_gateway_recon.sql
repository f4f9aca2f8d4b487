{{ config(materialized='incremental', unique_key='recon_key', incremental_strategy='delete+insert', restatements=False, partition_by='event_date', indexes=[{'columns': ['match_status']}, {'columns': ['event_date']}, {'columns': ['recon_key']}, {'columns': ['_loaded_at']}, {'columns': ['clock_gap_hours']}]) }}
-- One row per captured payment, refund and unmatched settlement line, with the match status of
-- rule R5: exactly one settlement line with the same reference, the same gross and currency,
-- settled within settlement_window_days of the business date. clock_gap_hours: how far the
-- gateway's clock is from ours, when an hour or more (either reading of a repeated DST hour). recon_key is the reference the
-- rows of one match share (a payment's or refund's and its lines'). Incremental: the references
-- with a payment, refund, order or settlement line loaded since the last build, matched again;
-- and the rows pending settlement whose window files_complete_through (which moves with every run)
-- has now passed while nothing of theirs came: they turn missing_settlement, and nothing else
-- about them changes (their line would have come as a new row).
with affected as (
  {% if is_incremental() %}
  select coalesce(gateway_txn_ref, 'payment:' || payment_id) as recon_key from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}
  union select coalesce(p.gateway_txn_ref, 'payment:' || p.payment_id) from {{ ref('dwd_payments') }} p
        join {{ ref('dwd_orders') }} o on o.order_id = p.order_id where o._loaded_at > {{ last_loaded() }}
  union select coalesce(gateway_refund_ref, 'refund:' || refund_id) from {{ ref('dwd_refunds') }} where _loaded_at > {{ last_loaded() }}
  union select coalesce(r.gateway_refund_ref, 'refund:' || r.refund_id) from {{ ref('dwd_refunds') }} r
        join {{ ref('dwd_payments') }} p on p.order_id = r.order_id and p.payment_id = r.payment_id where p._loaded_at > {{ last_loaded() }}
  union select coalesce(r.gateway_refund_ref, 'refund:' || r.refund_id) from {{ ref('dwd_refunds') }} r
        join {{ ref('dwd_orders') }} o on o.order_id = r.order_id where o._loaded_at > {{ last_loaded() }}
  union select coalesce(gateway_refund_ref, gateway_txn_ref, 'line:' || line_key) from {{ ref('dwd_gateway_settlements') }}
        where _loaded_at > {{ last_loaded() }}
  {% else %}
  select null::text as recon_key where false
  {% endif %}
),
charges as (
  select gateway_txn_ref, count(*) as lines, sum(gross) as gross, min(currency) as currency,
         max(currency) as other_currency, max(settled_on) as settled_on, min(transaction_at) as transaction_at,
         min(transaction_at_alt) as transaction_at_alt, max(_loaded_at) as _loaded_at
  from {{ ref('dwd_gateway_settlements') }}
  where line_type = 'charge'
  {% if is_incremental() %}and gateway_txn_ref in (select recon_key from affected){% endif %}
  group by gateway_txn_ref
),
refund_lines as (
  select gateway_refund_ref, count(*) as lines, sum(gross) as gross, min(currency) as currency,
         max(currency) as other_currency, max(settled_on) as settled_on, min(transaction_at) as transaction_at,
         min(transaction_at_alt) as transaction_at_alt, max(_loaded_at) as _loaded_at
  from {{ ref('dwd_gateway_settlements') }}
  where line_type = 'refund'
  {% if is_incremental() %}and gateway_refund_ref in (select recon_key from affected){% endif %}
  group by gateway_refund_ref
),
payments as (
  select p.*, o.merchant_id, greatest(p._loaded_at, o._loaded_at) as _row_loaded_at
  from {{ ref('dwd_payments') }} p
  left join {{ ref('dwd_orders') }} o on o.order_id = p.order_id
  where p.status = 'captured'
  {% if is_incremental() %}
    and p.payment_id in (select payment_id from {{ ref('dwd_payments') }} where gateway_txn_ref in (select recon_key from affected)
                         union all
                         select payment_id from {{ ref('dwd_payments') }}
                         where gateway_txn_ref is null and 'payment:' || payment_id in (select recon_key from affected))
  {% endif %}
),
refunds as (
  select r.*, p.gateway, o.merchant_id, greatest(r._loaded_at, p._loaded_at, o._loaded_at) as _row_loaded_at
  from {{ ref('dwd_refunds') }} r
  left join {{ ref('dwd_payments') }} p on p.order_id = r.order_id and p.payment_id = r.payment_id
  left join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
  {% if is_incremental() %}
  where r.refund_id in (select refund_id from {{ ref('dwd_refunds') }} where gateway_refund_ref in (select recon_key from affected)
                        union all
                        select refund_id from {{ ref('dwd_refunds') }}
                        where gateway_refund_ref is null and 'refund:' || refund_id in (select recon_key from affected))
  {% endif %}
)
select 'payment' as entity_type, p.payment_id::text as entity_key, p.gateway, p.gateway_txn_ref as gateway_ref,
       p.merchant_id, p.currency, p.biz_date as event_date, p.captured_at as event_at,
       p.amount::numeric(18,2) as expected_amount, coalesce(l.gross, 0)::numeric(18,2) as actual_amount,
       (coalesce(l.gross, 0) - p.amount)::numeric(18,2) as diff_amount,
       l.settled_on, l.transaction_at, l.transaction_at_alt,
       case when l.gateway_txn_ref is null and not {{ settlement_window_closed('p.biz_date') }} then 'pending_settlement'
            when l.gateway_txn_ref is null then 'missing_settlement'
            when l.currency <> p.currency or l.other_currency <> p.currency then 'currency_mismatch'
            when l.lines <> 1 or l.gross <> p.amount then 'amount_mismatch'
            when l.settled_on - p.biz_date > {{ var('settlement_window_days') }} then 'late_settlement'
            else 'matched' end as match_status,
       coalesce(p.gateway_txn_ref, 'payment:' || p.payment_id) as recon_key,
       greatest(p._row_loaded_at, l._loaded_at) as _loaded_at,
       {{ clock_gap('p.captured_at', 'l.transaction_at', 'l.transaction_at_alt') }} as clock_gap_hours
from payments p
left join charges l on l.gateway_txn_ref = p.gateway_txn_ref
union all
select 'refund', r.refund_id::text, r.gateway, r.gateway_refund_ref, r.merchant_id, r.currency, r.biz_date, r.refunded_at,
       -r.amount, coalesce(l.gross, 0), coalesce(l.gross, 0) + r.amount, l.settled_on, l.transaction_at, l.transaction_at_alt,
       case when l.gateway_refund_ref is null and not {{ settlement_window_closed('r.biz_date') }} then 'pending_settlement'
            when l.gateway_refund_ref is null then 'missing_settlement'
            when l.currency <> r.currency or l.other_currency <> r.currency then 'currency_mismatch'
            when l.lines <> 1 or l.gross <> -r.amount then 'amount_mismatch'
            when l.settled_on - r.biz_date > {{ var('settlement_window_days') }} then 'late_settlement'
            else 'matched' end,
       coalesce(r.gateway_refund_ref, 'refund:' || r.refund_id),
       greatest(r._row_loaded_at, l._loaded_at),
       {{ clock_gap('r.refunded_at', 'l.transaction_at', 'l.transaction_at_alt') }}
from refunds r
left join refund_lines l on l.gateway_refund_ref = r.gateway_refund_ref
union all
select 'settlement_line', coalesce(s.gateway_refund_ref, s.gateway_txn_ref), s.gateway, s.gateway_txn_ref, null::bigint,
       s.currency, s.settled_on, s.transaction_at, 0::numeric(18,2), s.gross, s.gross, s.settled_on, s.transaction_at,
       s.transaction_at_alt, 'orphan_settlement',
       coalesce(s.gateway_refund_ref, s.gateway_txn_ref, 'line:' || s.line_key),
       s._loaded_at,
       {{ clock_gap('s.transaction_at', 's.transaction_at', 's.transaction_at_alt') }}
from {{ ref('dwd_gateway_settlements') }} s
-- (outer joins kept where nothing matched, not a correlated NOT EXISTS: the same rows, planned by
-- PostgreSQL as the same anti-joins (by index for an increment's few lines), and a form Citus
-- plans across workers; not NOT IN, which PostgreSQL cannot hash beyond work_mem)
left join {{ ref('dwd_payments') }} pay on s.line_type = 'charge' and pay.gateway_txn_ref = s.gateway_txn_ref
left join {{ ref('dwd_refunds') }} rfd on s.line_type = 'refund' and rfd.gateway_refund_ref = s.gateway_refund_ref
where ((s.line_type = 'charge' and pay.gateway_txn_ref is null) or (s.line_type = 'refund' and rfd.gateway_refund_ref is null))
{% if is_incremental() %}
  and s.line_key in (select line_key from {{ ref('dwd_gateway_settlements') }} where gateway_refund_ref in (select recon_key from affected)
                     union all
                     select line_key from {{ ref('dwd_gateway_settlements') }}
                     where gateway_refund_ref is null and gateway_txn_ref in (select recon_key from affected)
                     union all
                     select line_key from {{ ref('dwd_gateway_settlements') }}
                     where gateway_refund_ref is null and gateway_txn_ref is null and 'line:' || line_key in (select recon_key from affected))
{% endif %}
{% if is_incremental() %}
union all
select entity_type, entity_key, gateway, gateway_ref, merchant_id, currency, event_date, event_at, expected_amount,
       actual_amount, diff_amount, settled_on, transaction_at, transaction_at_alt,
       case when match_status = 'pending_settlement' and {{ settlement_window_closed('event_date') }}
            then 'missing_settlement' else match_status end,
       recon_key, _loaded_at, clock_gap_hours
from {{ this }}
where recon_key in (select recon_key from {{ this }} where match_status = 'pending_settlement'
                      and {{ settlement_window_closed('event_date') }})
  and recon_key not in (select recon_key from affected where recon_key is not null)
{% endif %}
