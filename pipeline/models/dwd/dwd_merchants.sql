{{ config(materialized='table', indexes=[{'columns': ['_copies']}, {'columns': ['merchant_id'], 'unique': True}], distributed_by='merchant_id', role='merchants') }}
with ranked as ({{ first_by_source_line(source('ods', 'ods_merchants'), 'merchant_id') }})
select merchant_id, merchant_name, category, commission_rate, upper(currency) as currency, onboarded_at,
       _source_file, _source_line, _copies
from ranked
where _rn = 1
