{{ config(materialized='incremental', unique_key='redemption_id', incremental_strategy='delete+insert', partition_by='biz_date', indexes=[{'columns': ['_copies']}, {'columns': ['redemption_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['order_id']}], distributed_by='order_id') }}
-- Voucher redemptions, de-duplicated on redemption_id.
with ranked as ({{ first_by_source_line(source('ods', 'ods_voucher_redemptions'), 'redemption_id') }})
select redemption_id, voucher_code, order_id, amount, redeemed_at,
       {{ business_time('redeemed_at') }},
       _source_file, _source_line, _loaded_at, _copies
from ranked
where _rn = 1
