{{ config(materialized='incremental', unique_key=['merchant_id', 'currency', 'hour_start'], incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'hour_start'], 'unique': True}, {'columns': ['_loaded_at']}], distributed_by='merchant_id', role='merchant_hourly') }}
-- Merchant measures per business hour (hour_start is the instant the local hour begins, so a
-- repeated DST hour stays two rows). Incremental: the events loaded since the last build, added
-- to their hour's row.
with added as (
  select merchant_id, currency, date_trunc('hour', event_at, '{{ var('business_timezone') }}') as hour_start,
         (date_trunc('hour', event_at, '{{ var('business_timezone') }}') at time zone '{{ var('business_timezone') }}')::date as biz_date,
         {{ merchant_sums() }}
  from {{ ref('dws_merchant_events') }}
  {% if is_incremental() %}where _loaded_at > {{ last_loaded() }}{% endif %}
  group by 1, 2, 3, 4
)
select merchant_id, currency, hour_start, a.biz_date, {{ merchant_measures('a') }}
from added a {{ held_rows('a', 'merchant_id, currency, hour_start') }}
