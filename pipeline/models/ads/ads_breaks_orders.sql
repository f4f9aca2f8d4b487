{{ config(materialized='view') }}
-- Breaks of an order's money (rules R1 to R4, R12): duplicate captures, vouchers that differ from
-- their redemptions, refunds above the captures, commissions off the rate. One family of
-- ads_recon_breaks, read from the per-order and per-commission figures DWS and DWD keep.
-- (the orders whose money breaks a rule, read by dws_order_money's index on this very condition;
-- the commissions off their rate likewise by dwd_commissions' index)
with suspect as materialized (
  select * from {{ ref('dws_order_money') }} m
  where (m.captures > 1 or m.voucher_discount <> m.redeemed or m.refunded > m.captured)
),
breaks as (
  {{ no_breaks() }}
  union all
  select 'duplicate_capture', 'order', m.order_id::text, m.merchant_id, null, m.currency, m.biz_date,
         m.customer_paid, m.captured, m.captured - m.customer_paid, m.captures || ' captured payments for one order'
  from suspect m
  where m.captures > 1
  union all
  select 'voucher_mismatch', 'order', m.order_id::text, m.merchant_id, null, m.currency, m.biz_date,
         m.voucher_discount, m.redeemed, m.redeemed - m.voucher_discount,
         'voucher_discount ' || m.voucher_discount || ', redemptions ' || m.redeemed
  from suspect m
  where m.voucher_discount <> m.redeemed
  union all
  select 'refund_exceeds_capture', 'order', m.order_id::text, m.merchant_id, null, m.currency, m.biz_date,
         m.captured, m.refunded, m.refunded - m.captured,
         'refunded ' || m.refunded || ' of ' || m.captured || ' captured'
  from suspect m
  where m.refunded > m.captured
  union all
  select 'commission_mismatch', 'commission', c.commission_id::text, c.merchant_id, null, c.currency, c.biz_date,
         c.expected_amount, c.amount, c.amount - c.expected_amount,
         case when c.refund_id is null then 'charge' else 'reversal' end || ' at rate ' || c.rate
  from {{ ref('dwd_commissions') }} c
  where abs(c.amount - c.expected_amount) > {{ var('commission_tolerance') }}
)
select * from breaks
