{{ config(materialized='table', partition_by='biz_date', indexes=[{'columns': ['commission_id'], 'unique': True}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Commission charges (refund_id null) and reversals (negative), de-duplicated on commission_id.
with ranked as ({{ first_by_source_line(source('ods', 'ods_commissions'), 'commission_id') }})
select commission_id, order_id, merchant_id, refund_id, base_amount, rate, amount, upper(currency) as currency, charged_at,
       {{ business_time('charged_at') }},
       _source_file, _source_line
from ranked
where _rn = 1
