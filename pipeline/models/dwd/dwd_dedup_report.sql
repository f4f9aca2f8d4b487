{{ config(materialized='table') }}
-- How many rows the de-duplication removed from each source table.
select source_table, count(*) as rows_removed
from {{ ref('dwd_removed_duplicates') }}
group by source_table
