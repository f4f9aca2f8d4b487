{{ config(materialized='incremental', unique_key='txn_id', incremental_strategy='delete+insert', partition_by='report_date', indexes=[{'columns': ['_copies']}, {'columns': ['txn_id'], 'unique': True}, {'columns': ['order_id']}, {'columns': ['file_id']}, {'columns': ['_loaded_at']}]) }}
-- Reseller sales, de-duplicated on txn_id (a line sent twice counts once), order_ref parsed.
with ranked as ({{ first_by_source_line(source('ods', 'ods_reseller_sales'), 'txn_id') }})
select reseller_id, file_id, report_date, txn_id,
       case when order_ref ~ '^[0-9]{1,18}$' then order_ref::bigint end as order_id,
       order_ref, sold_at, upper(currency) as currency, amount,
       (sold_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       source_format, _source_file, _source_line, _loaded_at, _copies
from ranked
where _rn = 1
