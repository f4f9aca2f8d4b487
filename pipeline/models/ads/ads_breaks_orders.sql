{{ config(materialized='view') }}
-- Breaks of an order's money (rules R1 to R4, R12): duplicate captures, vouchers that differ from
-- their redemptions, refunds above the captures, commissions off the rate. One family of ads_recon_breaks.
with captured as (
  select order_id, count(*) as captures, sum(amount) as captured
  from {{ ref('dwd_payments') }} where status = 'captured' group by order_id
),
refunded as (
  select order_id, sum(amount) as refunded from {{ ref('dwd_refunds') }} group by order_id
),
redeemed as (
  select order_id, sum(amount) as redeemed from {{ ref('dwd_voucher_redemptions') }} group by order_id
),
breaks as (
  {{ no_breaks() }}
  union all
  select 'duplicate_capture', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.customer_paid, c.captured, c.captured - o.customer_paid, c.captures || ' captured payments for one order'
  from {{ ref('dwd_orders') }} o join captured c on c.order_id = o.order_id
  where c.captures > 1
  union all
  select 'voucher_mismatch', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         o.voucher_discount, coalesce(v.redeemed, 0), coalesce(v.redeemed, 0) - o.voucher_discount,
         'voucher_discount ' || o.voucher_discount || ', redemptions ' || coalesce(v.redeemed, 0)
  from {{ ref('dwd_orders') }} o left join redeemed v on v.order_id = o.order_id
  where o.voucher_discount <> coalesce(v.redeemed, 0)
  union all
  select 'refund_exceeds_capture', 'order', o.order_id::text, o.merchant_id, null, o.currency, o.biz_date,
         coalesce(c.captured, 0), r.refunded, r.refunded - coalesce(c.captured, 0),
         'refunded ' || r.refunded || ' of ' || coalesce(c.captured, 0) || ' captured'
  from refunded r join {{ ref('dwd_orders') }} o on o.order_id = r.order_id
  left join captured c on c.order_id = r.order_id
  where r.refunded > coalesce(c.captured, 0)
  union all
  select 'commission_mismatch', 'commission', c.commission_id::text, c.merchant_id, null, c.currency, c.biz_date,
         e.expected, c.amount, c.amount - e.expected,
         case when c.refund_id is null then 'charge' else 'reversal' end || ' at rate ' || c.rate
  from {{ ref('dwd_commissions') }} c
  join {{ ref('dwd_orders') }} o on o.order_id = c.order_id
  left join {{ ref('dwd_refunds') }} r on r.refund_id = c.refund_id
  cross join lateral (
    select case when c.refund_id is null then round(c.rate * (o.gross_amount - o.merchant_discount), 2)
                else -round(c.rate * r.amount, 2) end as expected) e
  where abs(c.amount - e.expected) > {{ var('commission_tolerance') }}
)
select * from breaks
