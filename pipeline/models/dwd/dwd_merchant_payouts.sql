{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['payout_id'], 'unique': True}, {'columns': ['merchant_id', 'biz_date']}], distributed_by='merchant_id') }}
-- Payouts to merchants, de-duplicated on payout_id.
with ranked as ({{ first_by_source_line(source('ods', 'ods_merchant_payouts'), 'payout_id') }})
select payout_id, merchant_id, upper(currency) as currency, amount, paid_at,
       {{ business_time('paid_at') }},
       _source_file, _source_line, _copies
from ranked
where _rn = 1
