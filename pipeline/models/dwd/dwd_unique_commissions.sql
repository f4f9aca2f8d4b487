{{ config(materialized='incremental', unique_key='commission_id', incremental_strategy='delete+insert', indexes=[{'columns': ['commission_id'], 'unique': True}, {'columns': ['_loaded_at']}, {'columns': ['order_id']}, {'columns': ['refund_id']}], distributed_by='order_id') }}
-- The commissions de-duplicated on commission_id (each key's first row by file and line, and how
-- many rows it had), kept by order: dwd_commissions adds the amount the rate says from the order
-- and the refund. A step of its own because the two are keyed differently: on Citus the window
-- runs where the extract lies (distributed on commission_id) and the rows then move to their
-- order's shard between the workers, so that dwd_commissions' outer joins to the order and the
-- refund run within the order's shard instead of gathering all three tables on the coordinator.
with ranked as ({{ first_by_source_line(source('ods', 'ods_commissions'), 'commission_id') }})
select commission_id, order_id, merchant_id, refund_id, base_amount, rate, amount, currency, charged_at,
       _source_file, _source_line, _loaded_at, _copies
from ranked
where _rn = 1
