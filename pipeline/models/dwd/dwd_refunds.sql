{{ config(materialized='incremental', unique_key='refund_id', incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['refund_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['order_id']}, {'columns': ['payment_id']}], distributed_by='order_id') }}
-- Refunds, de-duplicated on refund_id; business date of refunded_at.
with ranked as ({{ first_by_source_line(source('ods', 'ods_refunds'), 'refund_id') }})
select refund_id, order_id, payment_id, gateway_refund_ref, upper(currency) as currency, amount, reason, refunded_at,
       {{ business_time('refunded_at') }},
       _source_file, _source_line, _loaded_at, _copies
from ranked
where _rn = 1
