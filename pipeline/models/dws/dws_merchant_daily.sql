{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['merchant_id', 'currency', 'biz_date']}], distributed_by='merchant_id', role='merchant_daily') }}
-- Merchant measures per business day.
select merchant_id, currency, (event_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
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
group by merchant_id, currency, (event_at at time zone '{{ var('business_timezone') }}')::date
