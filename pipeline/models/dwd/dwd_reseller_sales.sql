{{ config(materialized='table', partition_by='report_date', indexes=[{'columns': ['order_id']}, {'columns': ['file_id']}]) }}
-- Reseller sales, de-duplicated on txn_id (a line sent twice counts once), order_ref parsed.
with ranked as (
  select s.*, row_number() over (partition by txn_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_reseller_sales') }} s
)
select reseller_id, file_id, report_date, txn_id,
       case when order_ref ~ '^[0-9]{1,18}$' then order_ref::bigint end as order_id,
       order_ref, sold_at, upper(currency) as currency, amount,
       (sold_at at time zone '{{ var('business_timezone') }}')::date as biz_date,
       source_format, _source_file, _source_line
from ranked
where _rn = 1
