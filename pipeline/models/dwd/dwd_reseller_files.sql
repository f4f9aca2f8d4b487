{{ config(materialized='table', partition_by='report_date', indexes=[{'columns': ['file_id'], 'unique': True}]) }}
-- Each reseller file with what its trailer declares and what its (de-duplicated) lines add up to.
with files as (
  select f.*, row_number() over (partition by file_id order by _source_file, _source_line) as _rn
  from {{ source('ods', 'ods_reseller_files') }} f
),
counted as (
  select file_id, count(*) as counted_lines, sum(amount) as counted_total
  from {{ ref('dwd_reseller_sales') }}
  group by file_id
)
select f.file_id, f.reseller_id, f.report_date, f.source_format, f.declared_count, f.declared_total,
       coalesce(c.counted_lines, 0) as counted_lines, coalesce(c.counted_total, 0) as counted_total,
       f.has_trailer, f._source_file
from files f
left join counted c on c.file_id = f.file_id
where f._rn = 1
