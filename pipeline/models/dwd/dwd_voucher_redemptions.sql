{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['redemption_id'], 'unique': True}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Voucher redemptions, de-duplicated on redemption_id.
with ranked as (
  select t.*, row_number() over (partition by redemption_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_voucher_redemptions') }} t
  where redemption_id is not null
)
select redemption_id, voucher_code, order_id, amount, redeemed_at,
       (redeemed_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       extract(hour from redeemed_at at time zone '{{ var('business_timezone') }}')::int as biz_hour,
       date_trunc('hour', redeemed_at, '{{ var('business_timezone') }}') as hour_start,
       _source_file, _source_line
from ranked
where _rn = 1
