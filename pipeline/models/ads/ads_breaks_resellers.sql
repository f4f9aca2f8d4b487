{{ config(materialized='view') }}
-- Breaks of the resellers' files (rule R10): control totals, sales and orders without each other,
-- lines sent twice, files cut short. One family of ads_recon_breaks.
-- (Which sales and orders lack each other comes from dws_reseller_matches, read by its index on
-- the few that did not match; the orders a cut file leaves without their sale are summed once per
-- reseller and day in a CTE, a form a distributed warehouse plans across its workers.)
with orders_without_sale as (
  select m.reseller_id, m.biz_date, count(*) as orders, sum(m.amount) as expected, min(m.currency) as currency
  from {{ ref('dws_reseller_matches') }} m
  where not m.matched and m.side = 'order'
  group by m.reseller_id, m.biz_date
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
  from {{ ref('dws_reseller_matches') }} m
  join {{ ref('dwd_reseller_sales') }} s on s.txn_id = m.entity_key
  where not m.matched and m.side = 'sale'
  union all
  select 'reseller_unmatched_sale', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.gross_amount, null, null, 'reseller order without a sale in ' || coalesce(o.reseller_id, 'any') || '''s files'
  from {{ ref('dws_reseller_matches') }} m
  join {{ ref('dwd_orders') }} o on o.order_id = m.order_id
  where not m.matched and m.side = 'order'
    -- the day's reseller files come when the day ends: until then its orders await them
    and m.biz_date <= coalesce(nullif('{{ var('files_complete_through') }}', '')::date, 'infinity'::date)
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
