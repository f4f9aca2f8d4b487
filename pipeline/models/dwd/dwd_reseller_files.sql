{{ config(materialized='incremental', unique_key='file_id', incremental_strategy='delete+insert', partition_by='report_date', indexes=[{'columns': ['file_id'], 'unique': True}, {'columns': ['_loaded_at']}]) }}
-- Each reseller file with what its trailer declares and what its (de-duplicated) lines add up to.
-- Incremental: the files loaded since, and every file holding a line of a sale with a line loaded
-- since (a sale sent again in a file that sorts first moves to it from the file it was counted in).
with touched as (
  {% if is_incremental() %}
  select file_id from {{ source('ods', 'ods_reseller_files') }} where _loaded_at > {{ last_loaded() }}
  union
  select file_id from {{ source('ods', 'ods_reseller_sales') }}
  where txn_id in (select txn_id from {{ source('ods', 'ods_reseller_sales') }} where _loaded_at > {{ last_loaded() }})
  {% else %}
  select file_id from {{ source('ods', 'ods_reseller_files') }} where false
  {% endif %}
),
files as (
  select f.*, row_number() over (partition by file_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_reseller_files') }} f
  {% if is_incremental() %}where file_id in (select file_id from touched){% endif %}
),
counted as (
  select file_id, count(*) as counted_lines, sum(amount) as counted_total, max(_loaded_at) as _loaded_at
  from {{ ref('dwd_reseller_sales') }}
  {% if is_incremental() %}where file_id in (select file_id from touched){% endif %}
  group by file_id
)
select f.file_id, f.reseller_id, f.report_date, f.source_format, f.declared_count, f.declared_total,
       coalesce(c.counted_lines, 0) as counted_lines, coalesce(c.counted_total, 0) as counted_total,
       f.has_trailer, f._source_file, greatest(f._loaded_at, c._loaded_at) as _loaded_at
from files f
left join counted c on c.file_id = f.file_id
where f._rn = 1
