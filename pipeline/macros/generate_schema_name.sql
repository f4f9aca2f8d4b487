{# dbt only: each layer folder builds into <schema_prefix>_<layer>, as FundRecon builds into rc_<runid>_<layer>. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ var('schema_prefix') }}_{{ custom_schema_name | trim }}
{%- endmacro %}
