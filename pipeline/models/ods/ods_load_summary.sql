{{ config(materialized='table') }}
-- One row per source: files, records read, loaded and rejected (R11), files missing (R13).
select source,
       count(*) as files,
       count(*) filter (where status = 'missing') as files_missing,
       count(*) filter (where status = 'duplicate') as files_duplicate,
       count(*) filter (where status = 'truncated') as files_truncated,
       sum(rows_read) as rows_read,
       sum(rows_loaded) as rows_loaded,
       sum(rows_rejected) as rows_rejected
from {{ source('ods', 'ods_file_loads') }}
group by source
