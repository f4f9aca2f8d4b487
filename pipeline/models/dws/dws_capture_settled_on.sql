{{ config(materialized='incremental', unique_key='payment_id', incremental_strategy='delete+insert', restatements=False, partition_by='biz_date', indexes=[{'columns': ['payment_id']}, {'columns': ['order_id']}, {'columns': ['_loaded_at']}], distributed_by='order_id') }}
-- Per captured payment: its order, gateway, currency, business day and amount, and the day its
-- first charge line of that gateway settled (null while none has). Read where the lines are (our
-- side and the lines share recon_key) and written beside the payment's order, so that
-- dws_capture_settlement numbers an order's captures within the order: on Citus a repartitioned
-- INSERT ... SELECT between the workers, where a join of the captures with the lines off either
-- table's distribution column gathered every charge line. Incremental: the captures whose row in
-- dws_gateway_expected, or a charge line of whose reference, was loaded since the last build.
select e.order_id, e.payment_id, e.gateway, e.currency, e.event_date as biz_date, e.amount, e.gateway_ref as gateway_txn_ref,
       min(s.settled_on) as settled_on, greatest(max(e._loaded_at), max(s._loaded_at)) as _loaded_at
from {{ ref('dws_gateway_expected') }} e
left join {{ ref('dwd_gateway_settlements') }} s on s.recon_key = e.recon_key and s.line_type = 'charge'
  and s.gateway = e.gateway and s.gateway_txn_ref = e.gateway_ref
where e.entity_type = 'payment' and e.status = 'captured'
{% if is_incremental() %}
  and e.recon_key in (select recon_key from {{ ref('dws_gateway_expected') }} where _loaded_at > {{ last_loaded() }}
                      union all
                      select recon_key from {{ ref('dwd_gateway_settlements') }} where _loaded_at > {{ last_loaded() }} and line_type = 'charge')
{% endif %}
-- (grouped with recon_key, the distribution column on Citus, so that the grouping stays on the shards)
group by e.recon_key, e.entity_key, e.order_id, e.payment_id, e.gateway, e.currency, e.event_date, e.amount, e.gateway_ref
