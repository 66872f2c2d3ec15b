-- One row per parsed report. Renames and casts only.
select
    cast(report_id as varchar)                         as report_id,
    cast(source_file as varchar)                       as source_file,
    cast(format as varchar)                            as format,
    cast(agency as varchar)                            as agency,
    cast(year as integer)                              as year,
    cast(template as varchar)                          as template,
    {{ ogi_try_cast('published', 'date') }}            as published,
    cast(published as varchar)                         as published_raw,
    cast(index_number as varchar)                      as index_number,
    cast(division_code as varchar)                     as division_code,
    cast(year_source as varchar)                       as year_source,
    cast(agency_source as varchar)                     as agency_source,
    cast(coalesce(warning_count, 0) as integer)        as warning_count,
    cast(warnings as varchar)                          as warnings_json,
    cast(parser_version as varchar)                    as parser_version,
    cast(parsed_at as timestamp with time zone)        as parsed_at
from {{ source('raw', 'reports') }}
