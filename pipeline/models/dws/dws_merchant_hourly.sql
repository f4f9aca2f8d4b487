{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'hour_start']}], distributed_by='merchant_id', role='merchant_hourly') }}
-- Merchant measures per business hour (hour_start is the instant the local hour begins, so a repeated DST hour stays two rows).
select merchant_id, currency, date_trunc('hour', event_at, '{{ var('business_timezone') }}') as hour_start,
       (date_trunc('hour', event_at, '{{ var('business_timezone') }}') at time zone '{{ var('business_timezone') }}')::date as biz_date,
       sum(order_count)::bigint as order_count,
       sum(gross_sales)::numeric(18,2) as gross_sales,
       sum(merchant_discount)::numeric(18,2) as merchant_discount,
       sum(platform_discount)::numeric(18,2) as platform_discount,
       sum(customer_paid)::numeric(18,2) as customer_paid,
       sum(captured_amount)::numeric(18,2) as captured_amount,
       sum(refund_amount)::numeric(18,2) as refund_amount,
       sum(commission_amount)::numeric(18,2) as commission_amount,
       (sum(gross_sales) - sum(merchant_discount) - sum(commission_amount) - sum(refund_amount))::numeric(18,2) as net_payable
from {{ ref('dws_merchant_events') }}
group by 1, 2, 3, 4
