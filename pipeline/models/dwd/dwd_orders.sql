{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['order_id'], 'unique': True}, {'columns': ['merchant_id', 'biz_date']}, {'columns': ['_loaded_at']}], distributed_by='order_id', role='orders') }}
-- Orders, de-duplicated on order_id (the first by file and line wins), with the voucher's funder
-- split out and business date and hour in the business time zone. Incremental: the orders with rows
-- loaded since the last build, recomputed from all their rows (a duplicate arriving later changes nothing).
with ranked as ({{ first_by_source_line(source('ods', 'ods_orders'), 'order_id') }}),
vouchers as (
  select voucher_code, funded_by,
         row_number() over (partition by voucher_code order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_vouchers') }}
)
select o.order_id, o.merchant_id, o.customer_id, o.channel, o.reseller_id, upper(o.currency) as currency,
       o.gross_amount, o.voucher_code, v.funded_by as voucher_funded_by,
       o.voucher_discount,
       -- A discount is the merchant's only when a merchant-funded voucher says so; otherwise the platform's.
       case when v.funded_by = 'merchant' then o.voucher_discount else 0 end as merchant_discount,
       case when v.funded_by = 'merchant' then 0 else o.voucher_discount end as platform_discount,
       o.gross_amount - o.voucher_discount as customer_paid,
       o.status, o.created_at,
       {{ business_time('o.created_at') }},
       o._source_file, o._source_line, o._loaded_at, o._copies
from ranked o
left join vouchers v on v.voucher_code = o.voucher_code and v._rn = 1
where o._rn = 1
