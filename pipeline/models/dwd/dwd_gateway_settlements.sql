{{ config(materialized='incremental', unique_key='line_key', incremental_strategy='delete+insert', partition_by='settled_on', indexes=[{'columns': ['_copies']}, {'columns': ['gateway', 'batch_id']}, {'columns': ['line_key'], 'type': 'hash'}, {'columns': ['_loaded_at']}, {'columns': ['(fee <> expected_fee or net <> gross - fee)']}, {'columns': ['transaction_at']}, {'columns': ['recon_key'], 'type': 'hash'}], distributed_by='recon_key') }}
-- Settlement lines of both gateways in one shape. Signs: charges positive, refunds negative,
-- fee positive, net = gross - fee. settled_on: the Stripe file's date; the Adyen batch's payout date.
-- Adyen gives local wall time and a zone name: in the hour a DST change repeats, the text has two
-- readings. transaction_at takes PostgreSQL's; transaction_at_alt keeps the other one.
-- line_key names a line across builds. Incremental: the Stripe lines with rows loaded since the
-- last build, and every line of an Adyen batch with rows loaded since then (its payout line
-- dates them all); _loaded_at is that of the rows a line's figures come from.
-- recon_key: the reference a line is reconciled by (its refund's, else its capture's, else its own
-- line_key), never null: ads_gateway_recon's key, and on Citus the distribution column of the
-- lines, of our side of the recon (dws_gateway_expected) and of the recon, so that matching runs
-- within each shard.
with stripe as (
  select s.*, row_number() over (partition by balance_transaction_id order by _source_file, _source_line) as _rn,
         count(*) over (partition by balance_transaction_id) as _copies
  from {{ source('ods', 'ods_stripe_balance_transactions') }} s
  {% if is_incremental() %}
  where balance_transaction_id in (select balance_transaction_id from {{ source('ods', 'ods_stripe_balance_transactions') }}
                                   where _loaded_at > {{ last_loaded() }})
  {% endif %}
),
adyen as (
  select a.*, row_number() over (
           partition by batch_number, type, psp_reference, coalesce(modification_reference, '')
           order by _source_file, _source_line) as _rn,
         count(*) over (partition by batch_number, type, psp_reference, coalesce(modification_reference, '')) as _copies
  from {{ source('ods', 'ods_adyen_settlement_details') }} a
  where type in ('Settled', 'Refunded', 'Fee')
  {% if is_incremental() %}
    and batch_number in (select batch_number from {{ source('ods', 'ods_adyen_settlement_details') }} where _loaded_at > {{ last_loaded() }})
  {% endif %}
),
adyen_payout as (
  select batch_number, min(creation_date)::date as paid_on, max(_loaded_at) as _loaded_at
  from {{ source('ods', 'ods_adyen_settlement_details') }}
  where type = 'MerchantPayout'
  {% if is_incremental() %}
    and batch_number in (select batch_number from {{ source('ods', 'ods_adyen_settlement_details') }} where _loaded_at > {{ last_loaded() }})
  {% endif %}
  group by batch_number
),
lines as (
  select 'stripe' as gateway, automatic_payout_id as batch_id, reporting_category as line_type,
         charge_id as gateway_txn_ref,
         case when reporting_category = 'refund' then source_id end as gateway_refund_ref,
         null::text as merchant_reference,
         upper(currency) as currency, gross, fee, net,
         created_utc as transaction_at,
         null::timestamptz as transaction_at_alt,
         coalesce(file_date, (available_on_utc at time zone 'UTC')::date) as settled_on,
         _source_file, _source_line,
         'stripe:' || coalesce(balance_transaction_id, '') as line_key, _loaded_at, _copies
  from stripe
  where _rn = 1
  union all
  select 'adyen', a.batch_number::text,
         case a.type when 'Settled' then 'charge' when 'Refunded' then 'refund' else 'fee' end,
         a.psp_reference,
         case when a.type = 'Refunded' then a.modification_reference end,
         a.merchant_reference,
         upper(a.gross_currency),
         coalesce(a.gross_credit_gc, 0) - coalesce(a.gross_debit_gc, 0),
         coalesce(a.commission_nc, 0) + coalesce(a.markup_nc, 0) + coalesce(a.scheme_fees_nc, 0) + coalesce(a.interchange_nc, 0),
         coalesce(a.net_credit_nc, 0) - coalesce(a.net_debit_nc, 0),
         a.creation_date at time zone a.timezone,
         case when ((a.creation_date at time zone a.timezone) + interval '1 hour') at time zone a.timezone = a.creation_date
              then (a.creation_date at time zone a.timezone) + interval '1 hour'
              when ((a.creation_date at time zone a.timezone) - interval '1 hour') at time zone a.timezone = a.creation_date
              then (a.creation_date at time zone a.timezone) - interval '1 hour' end,
         p.paid_on,
         a._source_file, a._source_line,
         'adyen:' || a.batch_number || ':' || a.type || ':' || coalesce(a.psp_reference, '') || ':'
           || coalesce(a.modification_reference, ''),
         greatest(a._loaded_at, p._loaded_at), a._copies
  from adyen a
  left join adyen_payout p on p.batch_number = a.batch_number
  where a._rn = 1
)
-- expected_fee: what the fee schedule (a seed) says a charge or refund line costs (rule R6).
select l.*,
       coalesce(l.gateway_refund_ref, l.gateway_txn_ref, 'line:' || l.line_key) as recon_key,
       coalesce((select sum(round(l.gross * f.percent::numeric / 100, 2) + f.fixed_amount::numeric)
                 from {{ ref('gateway_fee_schedule') }} f where f.gateway = l.gateway and f.applies_to = l.line_type), 0) as expected_fee
from lines l
