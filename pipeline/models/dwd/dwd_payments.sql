{{ config(materialized='incremental', unique_key='payment_id', incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['payment_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Payments, de-duplicated on payment_id. Two captured payments for one order are kept: that is a break (R12), not a duplicate row.
with ranked as ({{ first_by_source_line(source('ods', 'ods_payments'), 'payment_id') }})
select payment_id, order_id, gateway, gateway_txn_ref, upper(currency) as currency, amount, status, captured_at,
       {{ business_time('captured_at') }},
       _source_file, _source_line, _loaded_at, _copies
from ranked
where _rn = 1
