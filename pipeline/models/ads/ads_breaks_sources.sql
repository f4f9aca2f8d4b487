{{ config(materialized='view') }}
-- Breaks of the sources themselves (rules R11 to R13): records that could not be loaded, rows sent
-- twice, gateway files that never came, extracts missing or empty. One family of ads_recon_breaks.
with breaks as (
  {{ no_breaks() }}
  union all
  select 'malformed_record', 'source_record', j.file || ':' || j.line, null, null, null, null, null, null, null, j.reason
  from {{ source('ods', 'ods_rejects') }} j
  -- A truncated file's broken ending is that file's break.
  where not exists (select 1 from {{ ref('dwd_reseller_files') }} f where f._source_file = j.file and not f.has_trailer)
  union all
  select 'duplicate_source_row', 'source_record', d.source_table || ':' || d.source_key, null, null, null, null,
         null, null, null, 'line ' || d.source_line || ' of ' || d.source_file || ' repeats an earlier row'
  from {{ ref('dwd_removed_duplicates') }} d
  where d.source_table <> 'ods_reseller_sales'
  union all
  select 'missing_gateway_file', 'gateway_file', g.gateway || ':' || coalesce(g.file_date::text, g.batch::text), null, g.gateway,
         null, g.file_date, null, null, null, g.file_name || ' never arrived'
  from {{ ref('dwd_gateway_files') }} g
  where not g.present
  union all
  select 'missing_source', 'source_file', l.file, null, null, null, null, null, null, null,
         case when l.status = 'missing' then 'the extract is missing' else 'the extract is empty' end
  from {{ source('ods', 'ods_file_loads') }} l
  where l.source = 'oltp' and (l.status = 'missing' or l.rows_read = 0)
)
select * from breaks
