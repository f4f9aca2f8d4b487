{{ config(materialized='incremental', unique_key=['gateway', 'currency', 'biz_date'], incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['gateway', 'currency', 'biz_date'], 'unique': True}, {'columns': ['_loaded_at']}], role='gateway_daily') }}
-- Per gateway, currency and day: what we captured and refunded (business date), what the gateway
-- settled (settled_on) and paid out (paid_out_on). Incremental: the events of rows loaded since
-- the last build, added to their day's row.
with added as (
  select gateway, currency, biz_date, {{ gateway_sums() }}
  from ({{ gateway_events() }}) e
  where biz_date is not null
  group by gateway, currency, biz_date
)
select gateway, currency, biz_date, {{ gateway_measures('a') }}
from added a {{ held_rows('a', 'gateway, currency, biz_date') }}
