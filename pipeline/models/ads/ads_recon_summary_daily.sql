{{ config(materialized='table', restatements=False, partition_by='biz_date', indexes=[{'columns': ['biz_date'], 'unique': True}]) }}
-- Per day: what matched, what broke (in all and by type), and the match rate of the gateway recon
-- (its figures per day from ads_gateway_recon_daily, merged by day; the breaks are few, grouped whole).
with recon as (
  select biz_date, matched_count, matched_amount, recon_count
  from {{ ref('ads_gateway_recon_daily') }}
  where recon_count > 0
),
by_type as (
  select biz_date, break_type, count(*) as n, coalesce(sum(abs(diff_amount)), 0) as amount
  from {{ ref('ads_recon_breaks') }}
  where biz_date is not null
  group by biz_date, break_type
),
breaks as (
  select biz_date, sum(n) as break_count, sum(amount) as break_amount,
         jsonb_object_agg(break_type, jsonb_build_object('count', n, 'amount', amount)) as breaks_by_type
  from by_type group by biz_date
)
select coalesce(r.biz_date, b.biz_date) as biz_date,
       coalesce(r.matched_count, 0) as matched_count,
       coalesce(r.matched_amount, 0)::numeric(18,2) as matched_amount,
       coalesce(b.break_count, 0)::bigint as break_count,
       coalesce(b.break_amount, 0)::numeric(18,2) as break_amount,
       coalesce(b.breaks_by_type, '{}'::jsonb) as breaks_by_type,
       case when coalesce(r.recon_count, 0) = 0 then null
            else round(r.matched_count::numeric / r.recon_count, 4) end as match_rate
from recon r
full join breaks b on b.biz_date = r.biz_date
