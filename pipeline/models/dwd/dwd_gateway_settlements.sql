{{ config(materialized='table', partition_by='settled_on', indexes=[{'columns': ['gateway_txn_ref']}, {'columns': ['gateway_refund_ref']}, {'columns': ['gateway', 'batch_id']}]) }}
-- Settlement lines of both gateways in one shape. Signs: charges positive, refunds negative,
-- fee positive, net = gross - fee. settled_on: the Stripe file's date; the Adyen batch's payout date.
-- Adyen gives local wall time and a zone name: in the hour a DST change repeats, the text has two
-- readings. transaction_at takes PostgreSQL's; transaction_at_alt keeps the other one.
with stripe as (
  select s.*, row_number() over (partition by balance_transaction_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_stripe_balance_transactions') }} s
),
adyen as (
  select a.*, row_number() over (
           partition by batch_number, type, psp_reference, coalesce(modification_reference, '')
           order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_adyen_settlement_details') }} a
  where type in ('Settled', 'Refunded', 'Fee')
),
adyen_payout as (
  select batch_number, min(creation_date)::date as paid_on
  from {{ source('ods', 'ods_adyen_settlement_details') }}
  where type = 'MerchantPayout'
  group by batch_number
)
select 'stripe' as gateway, automatic_payout_id as batch_id, reporting_category as line_type,
       charge_id as gateway_txn_ref,
       case when reporting_category = 'refund' then source_id end as gateway_refund_ref,
       null::text as merchant_reference,
       upper(currency) as currency, gross, fee, net,
       created_utc as transaction_at,
       null::timestamptz as transaction_at_alt,
       coalesce(file_date, (available_on_utc at time zone 'UTC')::date) as settled_on,
       _source_file, _source_line
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
       a._source_file, a._source_line
from adyen a
left join adyen_payout p on p.batch_number = a.batch_number
where a._rn = 1
