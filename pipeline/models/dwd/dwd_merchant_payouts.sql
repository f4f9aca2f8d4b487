{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['payout_id'], 'unique': True}, {'columns': ['merchant_id', 'biz_date']}], distributed_by='merchant_id') }}
-- Payouts to merchants, de-duplicated on payout_id.
with ranked as (
  select t.*, row_number() over (partition by payout_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_merchant_payouts') }} t
  where payout_id is not null
)
select payout_id, merchant_id, upper(currency) as currency, amount, paid_at,
       (paid_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       extract(hour from paid_at at time zone '{{ var('business_timezone') }}')::int as biz_hour,
       date_trunc('hour', paid_at, '{{ var('business_timezone') }}') as hour_start,
       _source_file, _source_line
from ranked
where _rn = 1
