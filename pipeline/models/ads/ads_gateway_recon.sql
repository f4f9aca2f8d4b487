{{ config(materialized='incremental', unique_key='recon_key', incremental_strategy='delete+insert', restatements=False, partition_by='event_date', indexes=[{'columns': ['match_status', 'event_date']}, {'columns': ['event_date']}, {'columns': ['recon_key'], 'type': 'hash'}, {'columns': ['_loaded_at']}, {'columns': ['clock_gap_hours']}, {'columns': ["(case when match_status = 'pending_settlement' then event_date end)"]}], distributed_by='recon_key') }}
-- One row per captured payment, refund and unmatched settlement line, with the match status of
-- rule R5: exactly one settlement line with the same reference, the same gross and currency,
-- settled within settlement_window_days of the business date. clock_gap_hours: how far the
-- gateway's clock is from ours, when an hour or more (either reading of a repeated DST hour). recon_key is the reference the
-- rows of one match share (a payment's or refund's and its lines'). Incremental: the references
-- with a payment, refund, order or settlement line loaded since the last build, matched again;
-- and the rows pending settlement whose window files_complete_through (which moves with every run)
-- has now passed while nothing of theirs came: they turn missing_settlement, and nothing else
-- about them changes (their line would have come as a new row). Our side comes from
-- dws_gateway_expected, keyed like the lines: on Citus the recon, its lines and our side are
-- distributed on recon_key, and every join here runs within a shard.
{% if is_incremental() %}
with ours as (
  select recon_key from {{ ref('dws_gateway_expected') }} where _loaded_at > {{ last_loaded() }}
),
theirs as (
  select recon_key from {{ ref('dwd_gateway_settlements') }} where _loaded_at > {{ last_loaded() }}
),
affected as (
  select recon_key from ours union select recon_key from theirs
),
-- The affected references that can have charge or refund lines, the only ones whose lines are
-- looked up: a line loaded since; or lines loaded before, which the last build put in a row of the
-- reference (matched to its payment or refund, with a status other than pending or missing, or a
-- line's own orphan row), except a charge line whose payments are none of them captured, which is
-- in no row (a payment not captured has none, and the line is its payment's, not an orphan). A
-- line does not leave (a removed one advances the sources' epoch and the table is built whole).
-- At 10,000,000 orders an hour's lookups of every affected reference among the lines, almost all
-- new payments without any, were 3,700-7,200 pages of that hash index read past the buffer cache.
-- (The last two asked only of our side's references: a reference of a line loaded since is in the
-- first, and the day's files bring some 340,000 of them at 10,000,000 orders.)
lined as (
  select recon_key from theirs
  union select recon_key from {{ this }}
        where recon_key in (select recon_key from ours) and match_status not in ('pending_settlement', 'missing_settlement')
  union select recon_key from {{ ref('dws_gateway_expected') }}
        where recon_key in (select recon_key from ours) and entity_type = 'payment' and status is distinct from 'captured'
)
{% endif %}
-- (one select over the union, each branch with recon_key in the same place, no WITH in a full
-- build, and the joined sides as subqueries: in this form Citus pushes the whole statement down to
-- the shards; a bare union, a CTE, or an outer join to the bare table was gathered on the coordinator)
select entity_type, entity_key, gateway, gateway_ref, merchant_id, currency, event_date, event_at, expected_amount,
       actual_amount, diff_amount, settled_on, transaction_at, transaction_at_alt, match_status, recon_key, _loaded_at,
       clock_gap_hours
from (
select 'payment' as entity_type, p.entity_key, p.gateway, p.gateway_ref,
       p.merchant_id, p.currency, p.event_date, p.event_at,
       p.amount as expected_amount, coalesce(l.gross, 0)::numeric(18,2) as actual_amount,
       (coalesce(l.gross, 0) - p.amount)::numeric(18,2) as diff_amount,
       l.settled_on, l.transaction_at, l.transaction_at_alt,
       {{ match_status('p.event_date', 'p.currency', 'p.amount') }} as match_status,
       p.recon_key, greatest(p._loaded_at, l._loaded_at) as _loaded_at,
       {{ clock_gap('p.event_at', 'l.transaction_at', 'l.transaction_at_alt') }} as clock_gap_hours
from {{ ref('dws_gateway_expected') }} p
left join ({{ lines_by_reference('charge', 'gateway_txn_ref') }}) l on l.recon_key = p.recon_key and p.gateway_ref is not null
where p.entity_type = 'payment' and p.status = 'captured'
{% if is_incremental() %}  and p.recon_key in (select recon_key from affected){% endif %}
union all
select 'refund', r.entity_key, r.gateway, r.gateway_ref, r.merchant_id, r.currency, r.event_date, r.event_at,
       -r.amount, coalesce(l.gross, 0), coalesce(l.gross, 0) + r.amount, l.settled_on, l.transaction_at, l.transaction_at_alt,
       {{ match_status('r.event_date', 'r.currency', '-r.amount') }},
       r.recon_key, greatest(r._loaded_at, l._loaded_at),
       {{ clock_gap('r.event_at', 'l.transaction_at', 'l.transaction_at_alt') }}
from {{ ref('dws_gateway_expected') }} r
left join ({{ lines_by_reference('refund', 'gateway_refund_ref') }}) l on l.recon_key = r.recon_key and r.gateway_ref is not null
where r.entity_type = 'refund'
{% if is_incremental() %}  and r.recon_key in (select recon_key from affected){% endif %}
union all
select 'settlement_line', coalesce(s.gateway_refund_ref, s.gateway_txn_ref), s.gateway, s.gateway_txn_ref, null::bigint,
       s.currency, s.settled_on, s.transaction_at, 0::numeric(18,2), s.gross, s.gross, s.settled_on, s.transaction_at,
       s.transaction_at_alt, 'orphan_settlement',
       s.recon_key, s._loaded_at,
       {{ clock_gap('s.transaction_at', 's.transaction_at', 's.transaction_at_alt') }}
from {{ ref('dwd_gateway_settlements') }} s
-- (outer joins kept where nothing matched, not a correlated NOT EXISTS: the same rows, planned by
-- PostgreSQL as the same anti-joins (by index for an increment's few lines), and on Citus joins
-- within each shard, on recon_key)
left join (select recon_key, gateway_ref from {{ ref('dws_gateway_expected') }} where entity_type = 'payment') pay
  on s.line_type = 'charge' and pay.recon_key = s.recon_key and pay.gateway_ref = s.gateway_txn_ref
left join (select recon_key, gateway_ref from {{ ref('dws_gateway_expected') }} where entity_type = 'refund') rfd
  on s.line_type = 'refund' and rfd.recon_key = s.recon_key and rfd.gateway_ref = s.gateway_refund_ref
where ((s.line_type = 'charge' and pay.recon_key is null) or (s.line_type = 'refund' and rfd.recon_key is null))
{% if is_incremental() %}
  and s.recon_key in (select recon_key from lined)
{% endif %}
{% if is_incremental() %}
union all
select entity_type, entity_key, gateway, gateway_ref, merchant_id, currency, event_date, event_at, expected_amount,
       actual_amount, diff_amount, settled_on, transaction_at, transaction_at_alt,
       case when match_status = 'pending_settlement' and {{ settlement_window_closed('event_date') }}
            then 'missing_settlement' else match_status end,
       recon_key, _loaded_at, clock_gap_hours
from {{ this }}
-- (a pending row's day as the expression of its own index, whose statistics cover the pending days
-- alone: with match_status and event_date apart the planner expects most pending rows to have
-- closed and at 10,000,000 orders read the table whole every hour, 234,000 pages for none)
where recon_key in (select recon_key from {{ this }}
                    where {{ settlement_window_closed("(case when match_status = 'pending_settlement' then event_date end)") }})
  and recon_key not in (select recon_key from affected where recon_key is not null)
{% endif %}
) recon
