{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['refund_id'], 'unique': True}, {'columns': ['gateway_refund_ref']}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Refunds, de-duplicated on refund_id; business date of refunded_at.
with ranked as (
  select t.*, row_number() over (partition by refund_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_refunds') }} t
  where refund_id is not null
)
select refund_id, order_id, payment_id, gateway_refund_ref, upper(currency) as currency, amount, reason, refunded_at,
       (refunded_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       extract(hour from refunded_at at time zone '{{ var('business_timezone') }}')::int as biz_hour,
       date_trunc('hour', refunded_at, '{{ var('business_timezone') }}') as hour_start,
       _source_file, _source_line
from ranked
where _rn = 1
