{# FundRecon's macros, in the subset FundRecon and dbt-postgres render the same way (make interop):
   SQL text with {{ parameter }}, ref(), source() and var(). A macro's body is spliced on the line
   that calls it, so an error in it points at that line of the model. #}

{# The latest load time of the rows an incremental model holds: its next build takes the input
   loaded after it. Every incremental model carries _loaded_at, the load time of the source rows
   its row says what they say (for a de-duplicated key, its first occurrence's). #}
{% macro last_loaded() %}(select coalesce(max(_loaded_at), '-infinity'::timestamptz) from {{ this }}){% endmacro %}

{# A source's rows with each key's first occurrence (by file and line) numbered 1, and how many
   rows the key has (_copies): DWD keeps the first, and dwd_removed_duplicates reports the others. Built incrementally, only the keys with
   rows loaded since the model's last build, each with every one of its rows. #}
{% macro first_by_source_line(relation, key) %}
select t.*, row_number() over (partition by {{ key }} order by _source_file, _source_line) as _rn,
       count(*) over (partition by {{ key }}) as _copies
from {{ relation }} t
where {{ key }} is not null
{% if is_incremental() %}
  and {{ key }} in (select {{ key }} from {{ relation }} where _loaded_at > {{ last_loaded() }})
{% endif %}
{% endmacro %}

{# An event time's business date, hour and hour start in the business time zone. #}
{% macro business_time(column) %}
({{ column }} at time zone '{{ var('business_timezone') }}')::date as biz_date,
extract(hour from {{ column }} at time zone '{{ var('business_timezone') }}')::int as biz_hour,
date_trunc('hour', {{ column }}, '{{ var('business_timezone') }}') as hour_start
{% endmacro %}

{# The merchant measures of DATA_CONTRACT.md section 2 (DWS) summed over merchant events, with the
   latest load time among them. #}
{% macro merchant_sums() %}
sum(order_count) as order_count, sum(gross_sales) as gross_sales, sum(merchant_discount) as merchant_discount,
sum(platform_discount) as platform_discount, sum(customer_paid) as customer_paid, sum(captured_amount) as captured_amount,
sum(refund_amount) as refund_amount, sum(commission_amount) as commission_amount, max(_loaded_at) as _loaded_at
{% endmacro %}

{# A measure of a group: what the build adds (relation a); built incrementally, plus what the group
   held before (t, the model's own row, when it had one). #}
{% macro held(a, column) %}({{ a }}.{{ column }}{% if is_incremental() %} + coalesce(t.{{ column }}, 0){% endif %}){% endmacro %}

{# The merchant measures, and net_payable = gross_sales - merchant_discount - commission_amount -
   refund_amount, of the sums in relation a (merchant_sums), added to what the group held. #}
{% macro merchant_measures(a) %}
{{ held(a, 'order_count') }}::bigint as order_count,
{{ held(a, 'gross_sales') }}::numeric(18,2) as gross_sales,
{{ held(a, 'merchant_discount') }}::numeric(18,2) as merchant_discount,
{{ held(a, 'platform_discount') }}::numeric(18,2) as platform_discount,
{{ held(a, 'customer_paid') }}::numeric(18,2) as customer_paid,
{{ held(a, 'captured_amount') }}::numeric(18,2) as captured_amount,
{{ held(a, 'refund_amount') }}::numeric(18,2) as refund_amount,
{{ held(a, 'commission_amount') }}::numeric(18,2) as commission_amount,
({{ held(a, 'gross_sales') }} - {{ held(a, 'merchant_discount') }} - {{ held(a, 'commission_amount') }}
 - {{ held(a, 'refund_amount') }})::numeric(18,2) as net_payable,
{{ a }}._loaded_at
{% endmacro %}

{# Built incrementally, the group's row as it stood (t), to add the new events to; nothing otherwise. #}
{% macro held_rows(a, keys) %}{% if is_incremental() %}left join {{ this }} t using ({{ keys }}){% endif %}{% endmacro %}

{# The later occurrences of a source's keys: the rows DWD's de-duplication drops. Only keys the
   de-duplicated model (kept) counts more than one row for are read, by key; rows without a key
   are numbered among themselves. #}
{% macro removed_duplicates(name, relation, key, kept, kept_key) %}
select '{{ name }}' as source_table, {{ key }}::text as source_key, _source_file, _source_line,
       row_number() over (partition by {{ key }} order by _source_file, _source_line) as _rn
from (select {{ key }}, _source_file, _source_line from {{ relation }}
      where {{ key }} in (select {{ kept_key }} from {{ kept }} where _copies > 1)
      union all
      select {{ key }}, _source_file, _source_line from {{ relation }} where {{ key }} is null) d
{% endmacro %}

{# No break, typed: the first member of every family's union, so that the NULLs of the members
   after it take the types of ads_recon_breaks (a union's types are settled left to right). #}
{% macro no_breaks() %}
select null::text as break_type, null::text as entity_type, null::text as entity_key, null::bigint as merchant_id,
       null::text as gateway, null::text as currency, null::date as biz_date, null::numeric as expected_amount,
       null::numeric as actual_amount, null::numeric as diff_amount, null::text as detail
where false
{% endmacro %}

{# The refunds of each gateway, currency and business day, among those `condition` keeps (r: the
   refund, p: its payment, which names the gateway). A refund is looked up with its payment where
   both lie (its order's rows: on Citus the same shard), and only a refund whose payment belongs to
   another order (or that names no order) by payment_id alone: payment_id is unique, so the two
   branches are the plain join on payment_id, without repartitioning every payment. #}
{% macro refunds_by_gateway(condition) %}
select p.gateway, r.currency, r.biz_date, 0, sum(r.amount), 0, 0, 0, 0, 0, max(greatest(r._loaded_at, p._loaded_at))
from {{ ref('dwd_refunds') }} r join {{ ref('dwd_payments') }} p on p.order_id = r.order_id and p.payment_id = r.payment_id
where {{ condition }}
group by p.gateway, r.currency, r.biz_date
union all
select p.gateway, r.currency, r.biz_date, 0, sum(r.amount), 0, 0, 0, 0, 0, max(greatest(r._loaded_at, p._loaded_at))
from (select r.* from {{ ref('dwd_refunds') }} r
      left join {{ ref('dwd_payments') }} own on own.order_id = r.order_id and own.payment_id = r.payment_id
      where own.payment_id is null and {{ condition }}) r
join {{ ref('dwd_payments') }} p on p.payment_id = r.payment_id
group by p.gateway, r.currency, r.biz_date
{% endmacro %}

{# Refunds (r) loaded since the model's last build; refunds loaded before it whose payment came
   since (its gateway is known only now). Conditions on r alone, so that they reach r's scan. #}
{% macro refunds_loaded() %}r._loaded_at > {{ last_loaded() }}{% endmacro %}
{% macro refund_payments_loaded() %}r._loaded_at <= {{ last_loaded() }} and r.payment_id in (select payment_id from {{ ref('dwd_payments') }} where _loaded_at > {{ last_loaded() }}){% endmacro %}

{# Per gateway, currency and day: what we captured and refunded (business date), what the gateway
   settled (settled_on) and paid out (paid_out_on), with the latest load time of each day's events.
   Each source is summed by day where it lies, and the days are then combined by the model: on
   Citus a distributed table's branch is grouped on the workers and only its day sums reach the
   coordinator (a branch of rows pulled every captured payment there). Built incrementally, only
   the events of rows loaded since the model's last build (a refund also when its payment, which
   names the gateway, came after it: two branches, each read by its own `_loaded_at` index, where
   one OR of the two would join both tables whole). #}
{% macro gateway_events() %}
select gateway, currency, biz_date, sum(amount) as captured_amount, 0::numeric(18,2) as refund_amount,
       0::numeric(18,2) as settled_gross, 0::numeric(18,2) as settled_fees, 0::numeric(18,2) as settled_net,
       0::numeric(18,2) as payout_amount, 0::numeric(18,2) as settled_refunds, max(_loaded_at) as _loaded_at
from {{ ref('dwd_payments') }} where status = 'captured'
{% if is_incremental() %}and _loaded_at > {{ last_loaded() }}{% endif %}
group by gateway, currency, biz_date
union all
{% if is_incremental() %}
{{ refunds_by_gateway(refunds_loaded()) }}
union all
{{ refunds_by_gateway(refund_payments_loaded()) }}
{% else %}
{{ refunds_by_gateway('true') }}
{% endif %}
union all
select gateway, currency, settled_on, 0, 0, sum(gross), sum(fee), sum(net), 0, sum(case when line_type = 'refund' then gross else 0 end),
       max(_loaded_at)
from {{ ref('dwd_gateway_settlements') }}
{% if is_incremental() %}where _loaded_at > {{ last_loaded() }}{% endif %}
group by gateway, currency, settled_on
union all
select gateway, currency, paid_out_on, 0, 0, 0, 0, 0, sum(amount), 0, max(_loaded_at)
from {{ ref('dwd_gateway_payouts') }}
{% if is_incremental() %}where _loaded_at > {{ last_loaded() }}{% endif %}
group by gateway, currency, paid_out_on
{% endmacro %}

{# The gateway measures of relation a (sums of gateway_events), added to what the group held. #}
{% macro gateway_measures(a) %}
{{ held(a, 'captured_amount') }}::numeric(18,2) as captured_amount, {{ held(a, 'refund_amount') }}::numeric(18,2) as refund_amount,
{{ held(a, 'settled_gross') }}::numeric(18,2) as settled_gross, {{ held(a, 'settled_fees') }}::numeric(18,2) as settled_fees,
{{ held(a, 'settled_net') }}::numeric(18,2) as settled_net, {{ held(a, 'payout_amount') }}::numeric(18,2) as payout_amount,
{{ held(a, 'settled_refunds') }}::numeric(18,2) as settled_refunds, {{ a }}._loaded_at
{% endmacro %}

{# Sums of gateway_events over a group. #}
{% macro gateway_sums() %}
sum(captured_amount) as captured_amount, sum(refund_amount) as refund_amount, sum(settled_gross) as settled_gross,
sum(settled_fees) as settled_fees, sum(settled_net) as settled_net, sum(payout_amount) as payout_amount,
sum(settled_refunds) as settled_refunds, max(_loaded_at) as _loaded_at
{% endmacro %}

{# True when the settlement window of an event of business day `day` has closed: the day plus
   settlement_window_days is no later than files_complete_through (always, in a closed audit, where
   the var is empty). Until then a capture or refund without its line is pending, not missing.
   Written as the day against a bound, so that an index on the day finds the rows whose window has
   closed (ads_gateway_recon's on a pending row's day): the form "day + n <= bound" read every
   pending row each hour (557,000 rows, 0.3-0.5 s at 10,000,000 orders; 47 ms in this form). #}
{% macro settlement_window_closed(day) %}({{ day }} <= coalesce(nullif('{{ var('files_complete_through') }}', '')::date, 'infinity'::date) - {{ var('settlement_window_days') }}){% endmacro %}

{# Rule R5 in ads_gateway_recon: the settlement lines of one type under each reference (a charge
   line's recon_key is its gateway_txn_ref, a refund line's its gateway_refund_ref), with how many
   there are, their gross and currencies, the last day settled and the gateway's first time. Built
   incrementally, only the references in the model's `lined`. #}
{% macro lines_by_reference(line_type, reference) %}
select recon_key, count(*) as lines, sum(gross) as gross, min(currency) as currency,
       max(currency) as other_currency, max(settled_on) as settled_on, min(transaction_at) as transaction_at,
       min(transaction_at_alt) as transaction_at_alt, max(_loaded_at) as _loaded_at
from {{ ref('dwd_gateway_settlements') }}
where line_type = '{{ line_type }}' and {{ reference }} is not null
{% if is_incremental() %}and recon_key in (select recon_key from lined){% endif %}
group by recon_key
{% endmacro %}

{# Rule R5's status of a payment or refund (its business day, currency and the gross the gateway
   should settle) against its lines l (lines_by_reference): pending while its window is open and
   nothing came, then missing; one line of that gross and currency within the window matches. #}
{% macro match_status(day, currency, expected) %}
case when l.recon_key is null and not {{ settlement_window_closed(day) }} then 'pending_settlement'
     when l.recon_key is null then 'missing_settlement'
     when l.currency <> {{ currency }} or l.other_currency <> {{ currency }} then 'currency_mismatch'
     when l.lines <> 1 or l.gross <> {{ expected }} then 'amount_mismatch'
     when l.settled_on - {{ day }} > {{ var('settlement_window_days') }} then 'late_settlement'
     else 'matched' end
{% endmacro %}

{# Hours between our time of an event and the gateway's, when they are an hour or more apart by
   both readings of the gateway's local time (a repeated DST hour has two); null otherwise. #}
{% macro clock_gap(ours, theirs, theirs_alt) %}
case when {{ theirs }} is not null and abs(extract(epoch from {{ ours }} - {{ theirs }})) >= 3600
          and ({{ theirs_alt }} is null or abs(extract(epoch from {{ ours }} - {{ theirs_alt }})) >= 3600)
     then round(extract(epoch from {{ ours }} - {{ theirs }}) / 3600, 1) end
{% endmacro %}
