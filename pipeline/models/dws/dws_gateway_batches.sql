{{ config(materialized='incremental', unique_key=['gateway', 'batch_key'], incremental_strategy='delete+insert', indexes=[{'columns': ['gateway', 'batch_key'], 'unique': True}, {'columns': ['_loaded_at']}]) }}
-- Per gateway payout batch: the net of its settlement lines, their currency and last settlement
-- day (rule R7 compares it with what the gateway paid out). batch_key is batch_id, '' for lines
-- without one. Incremental: the batches with a line loaded since the last build, summed again.
select gateway, batch_id, coalesce(batch_id, '') as batch_key, min(currency) as currency, sum(net) as net,
       max(settled_on) as settled_on, max(_loaded_at) as _loaded_at
from {{ ref('dwd_gateway_settlements') }}
{% if is_incremental() %}
where (gateway, coalesce(batch_id, '')) in (select gateway, coalesce(batch_id, '') from {{ ref('dwd_gateway_settlements') }}
                                           where _loaded_at > {{ last_loaded() }})
{% endif %}
group by gateway, batch_id
