{{ config(materialized='incremental', unique_key=['merchant_id', 'currency', 'biz_date'], incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'biz_date'], 'unique': True}, {'columns': ['_loaded_at']}], distributed_by='merchant_id', role='merchant_daily') }}
-- Merchant measures per business day. Incremental: the events loaded since the last build, added
-- to their day's row (an event never changes once there, so adding is exact).
with added as (
  select merchant_id, currency, (event_at at time zone '{{ var('business_timezone') }}')::date as biz_date, {{ merchant_sums() }}
  from {{ ref('dws_merchant_events') }}
  {% if is_incremental() %}where _loaded_at > {{ last_loaded() }}{% endif %}
  group by 1, 2, 3
)
select merchant_id, currency, biz_date, {{ merchant_measures('a') }}
from added a {{ held_rows('a', 'merchant_id, currency, biz_date') }}
