{{ config(materialized='incremental', unique_key='biz_date', incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['_loaded_at']}]) }}
-- The captures of each business day per gateway, currency and the month their first charge line
-- settled (null while none has): their amount and the orders' amount due (dws_capture_settlement's
-- sales), the few rows ads_gateway_bridge sums per month instead of every capture. Incremental:
-- the days with a capture row merged since, each regrouped whole (unique_key is the day, so the
-- merge replaces all of a day's rows, also a group that no capture is left in; a warehouse's
-- partition index on biz_date serves it, found through the days' range).
select gateway, currency, biz_date, month_start, settled_month,
       count(*) as captures, sum(amount)::numeric(18,2) as amount, sum(sales)::numeric(18,2) as sales,
       max(_loaded_at) as _loaded_at
from {{ ref('dws_capture_settlement') }}
{% if is_incremental() %}
where biz_date in (select biz_date from {{ ref('dws_capture_settlement') }} where _loaded_at > {{ last_loaded() }})
  -- the same days' range, which the planner estimates as a few days and so reads by the index on
  -- biz_date (for the list alone it expects a third of the table and reads it whole)
  and biz_date >= (select min(biz_date) from {{ ref('dws_capture_settlement') }} where _loaded_at > {{ last_loaded() }})
  and biz_date <= (select max(biz_date) from {{ ref('dws_capture_settlement') }} where _loaded_at > {{ last_loaded() }})
{% endif %}
group by gateway, currency, biz_date, month_start, settled_month
