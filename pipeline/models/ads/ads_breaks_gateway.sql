{{ config(materialized='view') }}
-- Breaks of gateway alignment (rule R5): a payment or refund without its settlement line, a line
-- matching neither, an amount or currency that differs, a late settlement, and a gateway clock
-- hours apart from ours. One family of ads_recon_breaks.
with adyen_paid_days as (
  select currency, paid_out_on from {{ ref('dwd_gateway_payouts') }} where gateway = 'adyen'
),
recon as (
  select r.*,
         -- A settlement missing because its whole file never came is that file's break, not its own.
         case when r.match_status <> 'missing_settlement' then false
              when r.gateway = 'stripe' then (r.event_at at time zone 'UTC')::date + 1 in
                   (select file_date from {{ ref('dwd_gateway_files') }} where gateway = 'stripe' and not present)
              when r.gateway = 'adyen' then exists (select 1 from {{ ref('dwd_gateway_files') }} where gateway = 'adyen' and not present)
                   and (r.event_at at time zone 'UTC')::date + 2 between (select min(paid_out_on) from adyen_paid_days)
                                                                    and (select max(paid_out_on) from adyen_paid_days)
                   and not exists (select 1 from adyen_paid_days d
                                   where d.currency = r.currency and d.paid_out_on = (r.event_at at time zone 'UTC')::date + 2)
              else false end as explained_by_missing_file
  from {{ ref('ads_gateway_recon') }} r
  -- the statuses that break (all but matched and pending_settlement), read by the status index
  where r.match_status in ('missing_settlement', 'orphan_settlement', 'currency_mismatch', 'amount_mismatch', 'late_settlement')
),
breaks as (
  {{ no_breaks() }}
  union all
  select case r.match_status when 'amount_mismatch' then 'settlement_amount_mismatch' else r.match_status end as break_type,
         r.entity_type, r.entity_key, r.merchant_id, r.gateway, r.currency, r.event_date as biz_date,
         r.expected_amount, r.actual_amount, r.diff_amount,
         case r.match_status
           when 'missing_settlement' then 'no settlement line for ' || r.gateway_ref
           when 'orphan_settlement' then 'settlement line ' || r.gateway_ref || ' matches no payment or refund'
           when 'currency_mismatch' then 'settled in another currency than ' || r.currency
           when 'late_settlement' then 'settled on ' || r.settled_on || ', more than {{ var('settlement_window_days') }} days after ' || r.event_date
           else 'settled ' || r.actual_amount || ' for ' || r.expected_amount end as detail
  from recon r
  where not r.explained_by_missing_file
  union all
  select 'timezone_shift', r.entity_type, r.entity_key, r.merchant_id, r.gateway, r.currency, r.event_date,
         null, null, null,
         'recorded at ' || r.event_at || ', the gateway says ' || r.transaction_at || ' ('
           || r.clock_gap_hours || ' hours apart)'
  from {{ ref('ads_gateway_recon') }} r
  -- an ambiguous local time (a repeated DST hour) matches if either reading does; the few rows
  -- with a gap are read by the index on clock_gap_hours
  where r.clock_gap_hours is not null
)
select * from breaks
