{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'biz_date']}], distributed_by='merchant_id', role='merchant_daily') }}
-- Merchant measures per business day.
select merchant_id, currency, (event_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       {{ merchant_measures() }}
from {{ ref('dws_merchant_events') }}
group by merchant_id, currency, (event_at at time zone '{{ var('business_timezone') }}')::date
