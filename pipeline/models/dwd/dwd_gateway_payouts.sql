{{ config(materialized='incremental', unique_key=['gateway', 'batch_id'], incremental_strategy='delete+insert', partition_by='paid_out_on', indexes=[{'columns': ['gateway', 'batch_id'], 'unique': True}, {'columns': ['_loaded_at']}]) }}
-- What each gateway paid out per batch: Stripe's payouts files, Adyen's MerchantPayout lines.
-- Incremental: the payouts and batches with a payout row loaded since, from all their rows (the
-- first by file and line is kept, as in a full build).
with stripe as (
  select p.*, row_number() over (partition by payout_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_stripe_payouts') }} p
  {% if is_incremental() %}
  where payout_id in (select payout_id from {{ source('ods', 'ods_stripe_payouts') }} where _loaded_at > {{ last_loaded() }})
  {% endif %}
),
adyen as (
  select a.*, row_number() over (partition by batch_number order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_adyen_settlement_details') }} a
  where type = 'MerchantPayout'
  {% if is_incremental() %}
    and batch_number in (select batch_number from {{ source('ods', 'ods_adyen_settlement_details') }}
                         where _loaded_at > {{ last_loaded() }} and type = 'MerchantPayout')
  {% endif %}
)
select 'stripe' as gateway, payout_id as batch_id, upper(currency) as currency, amount,
       coalesce(file_date, (effective_at_utc at time zone 'UTC')::date) as paid_out_on, _source_file, _source_line, _loaded_at
from stripe where _rn = 1
union all
select 'adyen', batch_number::text, upper(net_currency), coalesce(net_debit_nc, 0) - coalesce(net_credit_nc, 0),
       creation_date::date, _source_file, _source_line, _loaded_at
from adyen where _rn = 1
