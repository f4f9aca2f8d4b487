{{ config(materialized='table', indexes=[{'columns': ['break_type']}, {'columns': ['biz_date']}, {'columns': ['merchant_id']}], role='breaks') }}
-- Every break of every kind, in one shape: what broke (break_type, named after the anomaly
-- classes of DATA_CONTRACT.md section 4), which entity, whose money, and how old it is.
with as_of as (
  select coalesce(nullif('{{ var('as_of_date') }}', '')::date, (select max(biz_date) from {{ ref('dwd_orders') }})) as as_of_date
),
loads as (select * from {{ source('ods', 'ods_file_loads') }} where status <> 'missing'),
stripe_files as (
  select distinct substring(file from 'payout_reconciliation_([0-9]{4}-[0-9]{2}-[0-9]{2})\.csv$')::date as file_date
  from loads where source = 'stripe' and file ~ 'payout_reconciliation_[0-9-]+\.csv$'
),
stripe_missing as (
  select d::date as file_date
  from (select min(file_date) as first_day, max(file_date) as last_day from stripe_files) b,
       generate_series(b.first_day, b.last_day, interval '1 day') d
  where d::date not in (select file_date from stripe_files)
),
adyen_batches as (
  select distinct substring(file from 'settlement_detail_report_batch_([0-9]+)\.csv$')::bigint as batch
  from loads where source = 'adyen' and file ~ 'settlement_detail_report_batch_[0-9]+\.csv$'
),
adyen_missing as (
  select b as batch
  from (select min(batch) as first_batch, max(batch) as last_batch from adyen_batches) x,
       generate_series(x.first_batch, x.last_batch) b
  where b not in (select batch from adyen_batches)
),
adyen_paid_days as (
  select currency, paid_out_on from {{ ref('dwd_gateway_payouts') }} where gateway = 'adyen'
),
recon as (
  select r.*,
         -- A settlement missing because its whole file never came is that file's break, not its own.
         case when r.match_status <> 'missing_settlement' then false
              when r.gateway = 'stripe' then (r.event_at at time zone 'UTC')::date + 1 in (select file_date from stripe_missing)
              when r.gateway = 'adyen' then exists (select 1 from adyen_missing)
                   and (r.event_at at time zone 'UTC')::date + 2 between (select min(paid_out_on) from adyen_paid_days)
                                                                    and (select max(paid_out_on) from adyen_paid_days)
                   and not exists (select 1 from adyen_paid_days d
                                   where d.currency = r.currency and d.paid_out_on = (r.event_at at time zone 'UTC')::date + 2)
              else false end as explained_by_missing_file
  from {{ ref('ads_gateway_recon') }} r
),
captured as (
  select order_id, count(*) as captures, sum(amount) as captured
  from {{ ref('dwd_payments') }} where status = 'captured' group by order_id
),
refunded as (
  select order_id, sum(amount) as refunded from {{ ref('dwd_refunds') }} group by order_id
),
redeemed as (
  select order_id, sum(amount) as redeemed from {{ ref('dwd_voucher_redemptions') }} group by order_id
),
fee_schedule as (
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
  where r.match_status not in ('matched', 'pending_settlement') and not r.explained_by_missing_file
  union all
  select 'timezone_shift', r.entity_type, r.entity_key, r.merchant_id, r.gateway, r.currency, r.event_date,
         null, null, null,
         'recorded at ' || r.event_at || ', the gateway says ' || r.transaction_at || ' ('
           || round(extract(epoch from r.event_at - r.transaction_at) / 3600, 1) || ' hours apart)'
  from recon r
  where r.transaction_at is not null and abs(extract(epoch from r.event_at - r.transaction_at)) >= 3600
    -- an ambiguous local time (a repeated DST hour) matches if either reading does
    and (r.transaction_at_alt is null or abs(extract(epoch from r.event_at - r.transaction_at_alt)) >= 3600)
  union all
  select 'duplicate_capture', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.customer_paid, c.captured, c.captured - o.customer_paid, c.captures || ' captured payments for one order'
  from {{ ref('dwd_orders') }} o join captured c on c.order_id = o.order_id
  where c.captures > 1
  union all
  select 'voucher_mismatch', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.voucher_discount, coalesce(v.redeemed, 0), coalesce(v.redeemed, 0) - o.voucher_discount,
         'voucher_discount ' || o.voucher_discount || ', redemptions ' || coalesce(v.redeemed, 0)
  from {{ ref('dwd_orders') }} o left join redeemed v on v.order_id = o.order_id
  where o.voucher_discount <> coalesce(v.redeemed, 0)
  union all
  select 'refund_exceeds_capture', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         coalesce(c.captured, 0), r.refunded, r.refunded - coalesce(c.captured, 0),
         'refunded ' || r.refunded || ' of ' || coalesce(c.captured, 0) || ' captured'
  from refunded r join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
  left join captured c on c.order_id = r.order_id
  where r.refunded > coalesce(c.captured, 0)
  union all
  select 'commission_mismatch', 'commission', c.commission_id::text, c.merchant_id, null, c.currency, c.biz_date,
         e.expected, c.amount, c.amount - e.expected,
         case when c.refund_id is null then 'charge' else 'reversal' end || ' at rate ' || c.rate
  from {{ ref('dwd_commissions') }} c
  join {{ ref('dwd_orders') }} o on o.order_id = c.order_id
  left join {{ ref('dwd_refunds') }} r on r.refund_id = c.refund_id
  cross join lateral (
    select case when c.refund_id is null then round(c.rate * (o.gross_amount - o.merchant_discount), 2)
                else -round(c.rate * r.amount, 2) end as expected) e
  where abs(c.amount - e.expected) > {{ var('commission_tolerance') }}
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
  union all
  select 'reseller_control_total_mismatch', 'reseller_file', f.file_id, null, null, null, f.report_date,
         f.declared_total, f.counted_total, f.counted_total - f.declared_total,
         'trailer says ' || f.declared_count || ' lines / ' || f.declared_total || ', file has ' || f.counted_lines || ' / ' || f.counted_total
  from {{ ref('dwd_reseller_files') }} f
  where f.has_trailer and (f.declared_count <> f.counted_lines or f.declared_total <> f.counted_total)
  union all
  select 'reseller_unmatched_sale', 'reseller_sale', s.txn_id, null, null, s.currency, s.biz_date,
         null, s.amount, null, 'no reseller order ' || s.order_ref || ' with this amount and currency'
  from {{ ref('dwd_reseller_sales') }} s
  where not exists (select 1 from {{ ref('dwd_orders') }} o
                    where o.order_id = s.order_id and o.channel = 'reseller'
                      and o.gross_amount = s.amount and o.currency = s.currency)
  union all
  select 'reseller_unmatched_sale', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.gross_amount, null, null, 'reseller order without a sale in ' || coalesce(o.reseller_id, 'any') || '''s files'
  from {{ ref('dwd_orders') }} o
  where o.channel = 'reseller' and o.status = 'paid'
    and not exists (select 1 from {{ ref('dwd_reseller_sales') }} s where s.order_id = o.order_id)
    -- the day's reseller files come when the day ends: until then its orders await them
    and o.biz_date <= coalesce(nullif('{{ var('files_complete_through') }}', '')::date, 'infinity'::date)
    -- a sale lost where its file was cut short is that file's break (reseller_truncated_file)
    and not exists (select 1 from {{ ref('dwd_reseller_files') }} f
                    where f.reseller_id = o.reseller_id and f.report_date = o.biz_date and not f.has_trailer)
  union all
  select 'reseller_duplicate_line', 'reseller_sale', d.source_key, null, null, null, null, null, null, null,
         'line ' || d.source_line || ' of ' || d.source_file || ' repeats an earlier sale'
  from {{ ref('dwd_removed_duplicates') }} d
  where d.source_table = 'ods_reseller_sales'
  union all
  select 'reseller_truncated_file', 'reseller_file', f.file_id, null, null, null, f.report_date, null, null, null,
         f._source_file || ' ends without its trailer'
  from {{ ref('dwd_reseller_files') }} f
  where not f.has_trailer
  union all
  select 'malformed_record', 'source_record', j.file || ':' || j.line, null, null, null, null, null, null, null, j.reason
  from {{ source('ods', 'ods_rejects') }} j
  -- A truncated file's broken ending is that file's break.
  where not exists (select 1 from {{ ref('dwd_reseller_files') }} f where f._source_file = j.file and not f.has_trailer)
  union all
  select 'duplicate_source_row', 'source_record', d.source_table || ':' || d.source_key, null, null, null, null,
         null, null, null, 'line ' || d.source_line || ' of ' || d.source_file || ' repeats an earlier row'
  from {{ ref('dwd_removed_duplicates') }} d
  where d.source_table <> 'ods_reseller_sales'
  union all
  select 'missing_gateway_file', 'gateway_file', 'stripe:' || m.file_date, null, 'stripe', null, m.file_date,
         null, null, null, 'payout_reconciliation_' || m.file_date || '.csv never arrived'
  from stripe_missing m
  union all
  select 'missing_gateway_file', 'gateway_file', 'adyen:' || m.batch, null, 'adyen', null, null,
         null, null, null, 'settlement_detail_report_batch_' || m.batch || '.csv never arrived'
  from adyen_missing m
  union all
  select 'missing_source', 'source_file', l.file, null, null, null, null, null, null, null,
         case when l.status = 'missing' then 'the extract is missing' else 'the extract is empty' end
  from {{ source('ods', 'ods_file_loads') }} l
  where l.source = 'oltp' and (l.status = 'missing' or l.rows_read = 0)
)
select b.break_type, b.entity_type, b.entity_key, b.merchant_id, b.gateway, b.currency, b.biz_date,
       b.expected_amount::numeric(18,2) as expected_amount, b.actual_amount::numeric(18,2) as actual_amount,
       b.diff_amount::numeric(18,2) as diff_amount,
       (a.as_of_date - b.biz_date) as age_days, b.detail
from breaks b cross join as_of a
