{{ config(materialized='table', indexes=[{'columns': ['merchant_id'], 'unique': True}], distributed_by='merchant_id', role='merchants') }}
with ranked as (
  select m.*, row_number() over (partition by merchant_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_merchants') }} m
  where merchant_id is not null
)
select merchant_id, merchant_name, category, commission_rate, upper(currency) as currency, onboarded_at,
       _source_file, _source_line
from ranked
where _rn = 1
