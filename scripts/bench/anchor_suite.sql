-- The suite of anchor_suite.yml as the fastest SQL written by hand, one connection, each check's
-- failing count: row checks of a table fused into one scan, the rest one statement each.
-- psql sets search_path to the run's schemas first; business_timezone is the dataset's (UTC).
select count(*) filter (where order_id is null or merchant_id is null or currency is null or gross_amount is null or created_at is null),
       count(*) filter (where gross_amount < 0)
from dwd_orders;
select count(*) filter (where payment_id is null or order_id is null or amount is null or captured_at is null),
       count(*) filter (where amount < 0)
from dwd_payments;
select count(*) filter (where amount < 0.01) from dwd_refunds;
select coalesce(sum(n), 0) from (select count(*) as n from dwd_orders group by order_id having count(*) > 1) d;
select coalesce(sum(n), 0) from (select count(*) as n from dwd_payments group by payment_id having count(*) > 1) d;
select coalesce(sum(n), 0) from (select count(*) as n from dwd_refunds group by refund_id having count(*) > 1) d;
select count(*) from dwd_payments c where c.order_id is not null and not exists (select 1 from dwd_orders p where p.order_id = c.order_id);
select count(*) from dwd_refunds c where c.payment_id is not null and not exists (select 1 from dwd_payments p where p.payment_id = c.payment_id);
select count(*)
from (select order_id, sum(amount) as refunded from dwd_refunds group by order_id) r
left join (select order_id, sum(amount) as captured from dwd_payments where status = 'captured' group by order_id) p using (order_id)
where r.refunded > coalesce(p.captured, 0);
select count(*) filter (where l.amount is distinct from r.amount)
from (select order_id, sum(customer_paid) as amount from dwd_orders where status = 'paid' group by order_id) l
full join (select order_id, sum(amount) as amount from dwd_payments where status = 'captured' group by order_id) r using (order_id);
select count(*)
from dwd_commissions c
join dwd_orders o on o.order_id = c.order_id
left join dwd_refunds r on r.refund_id = c.refund_id
where abs(c.amount - case when c.refund_id is null then round(c.rate * (o.gross_amount - o.merchant_discount), 2)
                          else -round(c.rate * r.amount, 2) end) > 0.01;
select count(*) filter (where l.amount is distinct from r.amount or abs(r.date - l.date) > 3)
from (select gateway_txn_ref, currency, sum(amount) as amount, min(biz_date) as date from dwd_payments where status = 'captured'
      group by gateway_txn_ref, currency) l
full join (select gateway_txn_ref, currency, sum(gross) as amount, min(settled_on) as date from dwd_gateway_settlements
           where line_type = 'charge' group by gateway_txn_ref, currency) r using (gateway_txn_ref, currency);
select count(*) filter (where l.amount is distinct from r.amount or abs(r.date - l.date) > 3)
from (select gateway_refund_ref, currency, sum(-amount) as amount, min(biz_date) as date from dwd_refunds
      group by gateway_refund_ref, currency) l
full join (select gateway_refund_ref, currency, sum(gross) as amount, min(settled_on) as date from dwd_gateway_settlements
           where line_type = 'refund' group by gateway_refund_ref, currency) r using (gateway_refund_ref, currency);
select count(*)
from (select merchant_id, currency, (hour_start at time zone 'UTC')::date as period, sum(order_count) as order_count,
             sum(gross_sales) as gross_sales, sum(captured_amount) as captured_amount, sum(refund_amount) as refund_amount,
             sum(commission_amount) as commission_amount, sum(net_payable) as net_payable
      from dws_merchant_hourly group by 1, 2, 3) f
full join dws_merchant_daily c on c.merchant_id = f.merchant_id and c.currency = f.currency and c.biz_date = f.period
where f.period is null or c.biz_date is null or (f.order_count, f.gross_sales, f.captured_amount, f.refund_amount,
      f.commission_amount, f.net_payable) is distinct from (c.order_count, c.gross_sales, c.captured_amount, c.refund_amount,
      c.commission_amount, c.net_payable);
select count(*)
from (select merchant_id, currency, date_trunc('month', biz_date)::date as period, sum(order_count) as order_count,
             sum(gross_sales) as gross_sales, sum(captured_amount) as captured_amount, sum(refund_amount) as refund_amount,
             sum(commission_amount) as commission_amount, sum(net_payable) as net_payable
      from dws_merchant_daily group by 1, 2, 3) f
full join dws_merchant_monthly c on c.merchant_id = f.merchant_id and c.currency = f.currency and c.month_start = f.period
where f.period is null or c.month_start is null or (f.order_count, f.gross_sales, f.captured_amount, f.refund_amount,
      f.commission_amount, f.net_payable) is distinct from (c.order_count, c.gross_sales, c.captured_amount, c.refund_amount,
      c.commission_amount, c.net_payable);
