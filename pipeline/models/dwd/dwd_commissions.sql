{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['commission_id'], 'unique': True}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Commission charges (refund_id null) and reversals (negative), de-duplicated on commission_id.
with ranked as (
  select t.*, row_number() over (partition by commission_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_commissions') }} t
  where commission_id is not null
)
select commission_id, order_id, merchant_id, refund_id, base_amount, rate, amount, upper(currency) as currency, charged_at,
       (charged_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       extract(hour from charged_at at time zone '{{ var('business_timezone') }}')::int as biz_hour,
       date_trunc('hour', charged_at, '{{ var('business_timezone') }}') as hour_start,
       _source_file, _source_line
from ranked
where _rn = 1
