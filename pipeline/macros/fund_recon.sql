{# FundRecon's macros, in the subset FundRecon and dbt-postgres render the same way (make interop):
   SQL text with {{ parameter }}, ref(), source() and var(). A macro's body is spliced on the line
   that calls it, so an error in it points at that line of the model. #}

{# A source's rows with each key's first occurrence (by file and line) numbered 1: DWD keeps
   those, and dwd_removed_duplicates reports the others. #}
{% macro first_by_source_line(relation, key) %}
select t.*, row_number() over (partition by {{ key }} order by _source_file, _source_line) as _rn
from {{ relation }} t
where {{ key }} is not null
{% endmacro %}

{# An event time's business date, hour and hour start in the business time zone. #}
{% macro business_time(column) %}
({{ column }} at time zone '{{ var('business_timezone') }}')::date as biz_date,
extract(hour from {{ column }} at time zone '{{ var('business_timezone') }}')::int as biz_hour,
date_trunc('hour', {{ column }}, '{{ var('business_timezone') }}') as hour_start
{% endmacro %}

{# The merchant measures of DATA_CONTRACT.md section 2 (DWS), summed over merchant events, and
   net_payable = gross_sales - merchant_discount - commission_amount - refund_amount. #}
{% macro merchant_measures() %}
sum(order_count)::bigint as order_count,
sum(gross_sales)::numeric(18,2) as gross_sales,
sum(merchant_discount)::numeric(18,2) as merchant_discount,
sum(platform_discount)::numeric(18,2) as platform_discount,
sum(customer_paid)::numeric(18,2) as customer_paid,
sum(captured_amount)::numeric(18,2) as captured_amount,
sum(refund_amount)::numeric(18,2) as refund_amount,
sum(commission_amount)::numeric(18,2) as commission_amount,
(sum(gross_sales) - sum(merchant_discount) - sum(commission_amount) - sum(refund_amount))::numeric(18,2) as net_payable
{% endmacro %}

{# The later occurrences of a source's keys: the rows DWD's de-duplication drops. #}
{% macro removed_duplicates(name, relation, key) %}
select '{{ name }}' as source_table, {{ key }}::text as source_key, _source_file, _source_line,
       row_number() over (partition by {{ key }} order by _source_file, _source_line) as _rn
from {{ relation }}
{% endmacro %}

{# No break, typed: the first member of every family's union, so that the NULLs of the members
   after it take the types of ads_recon_breaks (a union's types are settled left to right). #}
{% macro no_breaks() %}
select null::text as break_type, null::text as entity_type, null::text as entity_key, null::bigint as merchant_id,
       null::text as gateway, null::text as currency, null::date as biz_date, null::numeric as expected_amount,
       null::numeric as actual_amount, null::numeric as diff_amount, null::text as detail
where false
{% endmacro %}
