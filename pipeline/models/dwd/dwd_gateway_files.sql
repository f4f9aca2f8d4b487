{{ config(materialized='table') }}
-- Every gateway file the platform should have, and whether it came (rule R13). Stripe sends one
-- payout reconciliation file for every calendar day, so each day between the first file and the
-- last is expected; Adyen numbers its batches in one sequence, so each number between the first
-- batch and the last is. The breaks (missing_gateway_file) and the completeness checks read this.
-- The calendar is bounded by the data: a file dated outside the plausible event window is rejected
-- at load (status 'rejected'), and batch numbers are followed for at most 36,600 after the first
-- (a century of daily batches), so one mistyped name cannot stretch it across the years.
with loads as (
  select source, file from {{ source('ods', 'ods_file_loads') }} where status not in ('missing', 'rejected')
),
stripe as (
  select distinct substring(file from 'payout_reconciliation_([0-9]{4}-[0-9]{2}-[0-9]{2})\.csv$')::date as file_date
  from loads where source = 'stripe' and file ~ '(^|/)payout_reconciliation_[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv$'
),
adyen as (
  select distinct substring(file from 'settlement_detail_report_batch_([0-9]+)\.csv$')::bigint as batch
  from loads where source = 'adyen' and file ~ '(^|/)settlement_detail_report_batch_[0-9]+\.csv$'
)
select 'stripe' as gateway, d::date as file_date, null::bigint as batch,
       'payout_reconciliation_' || d::date || '.csv' as file_name,
       d::date in (select file_date from stripe) as present
from (select min(file_date) as first_day, max(file_date) as last_day from stripe) b,
     generate_series(b.first_day, b.last_day, interval '1 day') d
union all
select 'adyen', null, n, 'settlement_detail_report_batch_' || n || '.csv', n in (select batch from adyen)
from (select min(batch) as first_batch, max(batch) as last_batch from adyen) b,
     generate_series(b.first_batch, least(b.last_batch, b.first_batch + 36600)) n
