{{ config(materialized='view') }}
-- Breaks of the resellers' files (rule R10): control totals, sales and orders without each other,
-- lines sent twice, files cut short. One family of ads_recon_breaks.
-- (Sales without their order by an anti-join to the reseller orders, and the orders a cut file
-- leaves without their sale summed once per reseller and day: the same rows, in forms a
-- distributed warehouse plans across its workers.)
with orders_without_sale as (
  select o.reseller_id, o.biz_date, count(*) as orders, sum(o.gross_amount) as expected, min(o.currency) as currency
  from {{ ref('dwd_orders') }} o
  where o.channel = 'reseller' and o.status = 'paid'
    and not exists (select 1 from {{ ref('dwd_reseller_sales') }} s where s.order_id = o.order_id)
  group by o.reseller_id, o.biz_date
),
breaks as (
  {{ no_breaks() }}
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
  left join (select distinct order_id, gross_amount, currency from {{ ref('dwd_orders') }} where channel = 'reseller') o
         on o.order_id = s.order_id and o.gross_amount = s.amount and o.currency = s.currency
  where o.order_id is null
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
  -- the money of a file cut short: its day's orders of that reseller left without their sale
  select 'reseller_truncated_file', 'reseller_file', f.file_id, null, null, m.currency, f.report_date, m.expected, null, -m.expected,
         f._source_file || ' ends without its trailer'
           || coalesce(': ' || m.orders || ' order(s) worth ' || m.expected || ' lack their sale', '')
  from {{ ref('dwd_reseller_files') }} f
  left join orders_without_sale m on m.reseller_id = f.reseller_id and m.biz_date = f.report_date
  where not f.has_trailer
)
select * from breaks
