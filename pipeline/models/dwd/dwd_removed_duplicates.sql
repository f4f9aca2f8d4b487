{{ config(materialized='table') }}
-- Every source row removed as an exact duplicate of an earlier one (same source key): what the
-- de-duplication in DWD dropped, with its file and line, so nothing disappears unreported. Read by
-- key, only for the keys the de-duplicated DWD models count more than one row for (_copies).
with keyed as (
  {{ removed_duplicates('ods_orders', source('ods', 'ods_orders'), 'order_id', ref('dwd_orders'), 'order_id') }}
  union all
  {{ removed_duplicates('ods_payments', source('ods', 'ods_payments'), 'payment_id', ref('dwd_payments'), 'payment_id') }}
  union all
  {{ removed_duplicates('ods_refunds', source('ods', 'ods_refunds'), 'refund_id', ref('dwd_refunds'), 'refund_id') }}
  union all
  {{ removed_duplicates('ods_commissions', source('ods', 'ods_commissions'), 'commission_id', ref('dwd_commissions'), 'commission_id') }}
  union all
  {{ removed_duplicates('ods_voucher_redemptions', source('ods', 'ods_voucher_redemptions'), 'redemption_id', ref('dwd_voucher_redemptions'), 'redemption_id') }}
  union all
  {{ removed_duplicates('ods_merchant_payouts', source('ods', 'ods_merchant_payouts'), 'payout_id', ref('dwd_merchant_payouts'), 'payout_id') }}
  union all
  {{ removed_duplicates('ods_merchants', source('ods', 'ods_merchants'), 'merchant_id', ref('dwd_merchants'), 'merchant_id') }}
  union all
  {{ removed_duplicates('ods_reseller_sales', source('ods', 'ods_reseller_sales'), 'txn_id', ref('dwd_reseller_sales'), 'txn_id') }}
  union all
  {{ removed_duplicates('ods_stripe_balance_transactions', source('ods', 'ods_stripe_balance_transactions'), 'balance_transaction_id', ref('dwd_gateway_settlements'), "substr(line_key, 8)") }}
)
select source_table, source_key, _source_file as source_file, _source_line as source_line
from keyed
where _rn > 1
