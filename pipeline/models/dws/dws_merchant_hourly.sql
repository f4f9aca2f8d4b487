{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'hour_start']}], distributed_by='merchant_id', role='merchant_hourly') }}
-- Merchant measures per business hour (hour_start is the instant the local hour begins, so a repeated DST hour stays two rows).
select merchant_id, currency, date_trunc('hour', event_at, '{{ var('business_timezone') }}') as hour_start,
       (date_trunc('hour', event_at, '{{ var('business_timezone') }}') at time zone '{{ var('business_timezone') }}')::date as biz_date,
       {{ merchant_measures() }}
from {{ ref('dws_merchant_events') }}
group by 1, 2, 3, 4
