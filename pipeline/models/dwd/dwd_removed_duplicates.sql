{{ config(materialized='table') }}
-- Every source row removed as an exact duplicate of an earlier one (same source key): what the
-- de-duplication in DWD dropped, with its file and line, so nothing disappears unreported.
with keyed as (
  select 'ods_orders' as source_table, order_id::text as source_key, _source_file, _source_line,
         row_number() over (partition by order_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_orders') }}
  union all
  select 'ods_payments', payment_id::text, _source_file, _source_line,
         row_number() over (partition by payment_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_payments') }}
  union all
  select 'ods_refunds', refund_id::text, _source_file, _source_line,
         row_number() over (partition by refund_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_refunds') }}
  union all
  select 'ods_commissions', commission_id::text, _source_file, _source_line,
         row_number() over (partition by commission_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_commissions') }}
  union all
  select 'ods_voucher_redemptions', redemption_id::text, _source_file, _source_line,
         row_number() over (partition by redemption_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_voucher_redemptions') }}
  union all
  select 'ods_merchant_payouts', payout_id::text, _source_file, _source_line,
         row_number() over (partition by payout_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_merchant_payouts') }}
  union all
  select 'ods_merchants', merchant_id::text, _source_file, _source_line,
         row_number() over (partition by merchant_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_merchants') }}
  union all
  select 'ods_reseller_sales', txn_id, _source_file, _source_line,
         row_number() over (partition by txn_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_reseller_sales') }}
  union all
  select 'ods_stripe_balance_transactions', balance_transaction_id, _source_file, _source_line,
         row_number() over (partition by balance_transaction_id order by _source_file, _source_line)
  from {{ source('ods', 'ods_stripe_balance_transactions') }}
)
select source_table, source_key, _source_file as source_file, _source_line as source_line
from keyed
where _rn > 1
