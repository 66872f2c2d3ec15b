-- Every file version seen in the inbox. Renames and casts only.
select
    cast(path as varchar)                            as path,
    cast(name as varchar)                            as file_name,
    cast(size as bigint)                             as size_bytes,
    cast(sha256 as varchar)                          as report_id,
    cast(format as varchar)                          as format,
    cast(raw_path as varchar)                        as raw_path,
    cast(first_seen as timestamp with time zone)     as first_seen,
    cast(last_seen as timestamp with time zone)      as last_seen
from {{ source('raw', 'inventory') }}
