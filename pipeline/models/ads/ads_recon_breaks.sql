{{ config(materialized='table', unique_key=['break_type', 'entity_type', 'entity_key'], indexes=[{'columns': ['break_type']}, {'columns': ['biz_date']}, {'columns': ['merchant_id']}], role='breaks') }}
-- Every break of every kind, in one shape: what broke (break_type, named after the anomaly
-- classes of DATA_CONTRACT.md section 4), which entity, whose money, and how old it is. Each
-- family of breaks is a view of its own (ads_breaks_*); this table is their union, aged.
with as_of as (
  select coalesce(nullif('{{ var('as_of_date') }}', '')::date, (select max(biz_date) from {{ ref('dwd_orders') }})) as as_of_date
),
breaks as (
  select * from {{ ref('ads_breaks_gateway') }}
  union all
  select * from {{ ref('ads_breaks_orders') }}
  union all
  select * from {{ ref('ads_breaks_settlement') }}
  union all
  select * from {{ ref('ads_breaks_resellers') }}
  union all
  select * from {{ ref('ads_breaks_sources') }}
)
select b.break_type, b.entity_type, b.entity_key, b.merchant_id, b.gateway, b.currency, b.biz_date,
       b.expected_amount::numeric(18,2) as expected_amount, b.actual_amount::numeric(18,2) as actual_amount,
       b.diff_amount::numeric(18,2) as diff_amount,
       (a.as_of_date - b.biz_date) as age_days, b.detail
from breaks b cross join as_of a
