{{ config(materialized='incremental', unique_key='biz_date', incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['biz_date'], 'unique': True}]) }}
-- Per day: the gateway recon's references (ads_gateway_recon by event_date), how many matched and
-- for how much, the figures ads_recon_summary_daily reports. One row for every day a reference or
-- a settlement line lies on, also when none is left there (recon_count 0): a reference's row
-- moves only from the day of its settlement lines (while they match nothing) to the day of its
-- payment or refund, and a line's day stays, so no day drops out and a merge by day is exact.
-- Incremental: the days of the references merged since (where their rows lie now and where their
-- lines settled, so where they lay before), each regrouped by the recon's index on event_date.
-- The lines are found by their recon_key, the key their own rows had while they matched nothing
-- (on Citus, within the reference's shard). Only a reference whose row has lines now (settled_on)
-- is looked up: one without had none before either (lines do not leave), and at 10,000,000 orders
-- the lookups of an hour's new payments, one random page each, cost half the statement's reads.
with days as (
  {% if is_incremental() %}
  select event_date as biz_date from {{ ref('ads_gateway_recon') }} where _loaded_at > {{ last_loaded() }} and event_date is not null group by 1
  union select settled_on from {{ ref('ads_gateway_recon') }} where _loaded_at > {{ last_loaded() }} and settled_on is not null group by 1
  union select s.settled_on from {{ ref('dwd_gateway_settlements') }} s
        where s.recon_key in (select recon_key from {{ ref('ads_gateway_recon') }} where _loaded_at > {{ last_loaded() }}
                               and settled_on is not null)
        group by 1
  {% else %}
  select event_date as biz_date from {{ ref('ads_gateway_recon') }} where event_date is not null group by 1
  union select settled_on from {{ ref('dwd_gateway_settlements') }} where settled_on is not null group by 1
  {% endif %}
),
-- the recon's figures per day, grouped where the recon lies (on Citus, on each worker, and only the
-- day sums are combined)
figures as (
  select r.event_date,
         count(*) filter (where r.match_status = 'matched') as matched_count,
         sum(r.expected_amount) filter (where r.match_status = 'matched') as matched_amount,
         count(*) as recon_count, max(r._loaded_at) as _loaded_at
  from {{ ref('ads_gateway_recon') }} r
  {% if is_incremental() %}
  -- the days' range too, which the planner estimates as a few days and so reads by the index on
  -- event_date (for the days alone it reads the whole table)
  where r.event_date in (select biz_date from days)
    and r.event_date >= (select min(biz_date) from days) and r.event_date <= (select max(biz_date) from days)
  {% endif %}
  group by r.event_date
)
select d.biz_date,
       coalesce(f.matched_count, 0) as matched_count,
       coalesce(f.matched_amount, 0)::numeric(18,2) as matched_amount,
       coalesce(f.recon_count, 0) as recon_count,
       f._loaded_at
from days d
left join figures f on f.event_date = d.biz_date
