{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['payment_id'], 'unique': True}, {'columns': ['gateway_txn_ref']}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Payments, de-duplicated on payment_id. Two captured payments for one order are kept: that is a break (R12), not a duplicate row.
with ranked as (
  select t.*, row_number() over (partition by payment_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_payments') }} t
  where payment_id is not null
)
select payment_id, order_id, gateway, gateway_txn_ref, upper(currency) as currency, amount, status, captured_at,
       (captured_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       extract(hour from captured_at at time zone '{{ var('business_timezone') }}')::int as biz_hour,
       date_trunc('hour', captured_at, '{{ var('business_timezone') }}') as hour_start,
       _source_file, _source_line
from ranked
where _rn = 1
