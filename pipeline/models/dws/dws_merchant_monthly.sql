{{ config(materialized='table', partition_by='month_start', indexes=[{'columns': ['merchant_id', 'currency', 'month_start']}], distributed_by='merchant_id') }}
-- Merchant measures per business month.
select merchant_id, currency, date_trunc('month', event_at at time zone '{{ var('business_timezone') }}')::date as month_start,
       {{ merchant_measures() }}
from {{ ref('dws_merchant_events') }}
group by merchant_id, currency, date_trunc('month', event_at at time zone '{{ var('business_timezone') }}')::date
