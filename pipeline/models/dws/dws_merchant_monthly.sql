{{ config(materialized='incremental', unique_key=['merchant_id', 'currency', 'month_start'], incremental_strategy='delete+insert', partition_by='month_start', indexes=[{'columns': ['merchant_id', 'currency', 'month_start'], 'unique': True}, {'columns': ['_loaded_at']}], distributed_by='merchant_id') }}
-- Merchant measures per business month. Incremental: the events loaded since the last build,
-- added to their month's row.
with added as (
  select merchant_id, currency, date_trunc('month', event_at at time zone '{{ var('business_timezone') }}')::date as month_start,
         {{ merchant_sums() }}
  from {{ ref('dws_merchant_events') }}
  {% if is_incremental() %}where _loaded_at > {{ last_loaded() }}{% endif %}
  group by 1, 2, 3
)
select merchant_id, currency, month_start, {{ merchant_measures('a') }}
from added a {{ held_rows('a', 'merchant_id, currency, month_start') }}
