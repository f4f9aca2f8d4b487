{{ config(materialized='incremental', unique_key=['gateway', 'currency', 'month_start'], incremental_strategy='delete+insert', partition_by='month_start', indexes=[{'columns': ['gateway', 'currency', 'month_start'], 'unique': True}, {'columns': ['_loaded_at']}]) }}
-- Per gateway, currency and business month: captured, refunded, settled and paid out. Bucketed
-- from the detail on its own (not summed from dws_gateway_daily), so the roll-up check between the
-- two means something; a late settlement file changes its day and its month. Incremental: the
-- events of rows loaded since the last build, added to their month's row.
with added as (
  select gateway, currency, date_trunc('month', biz_date)::date as month_start, {{ gateway_sums() }}
  from ({{ gateway_events() }}) e
  where biz_date is not null
  group by gateway, currency, date_trunc('month', biz_date)::date
)
select gateway, currency, month_start, {{ gateway_measures('a') }}
from added a {{ held_rows('a', 'gateway, currency, month_start') }}
