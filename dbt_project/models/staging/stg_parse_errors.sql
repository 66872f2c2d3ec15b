-- One row per file the parser could not turn into a record.
select
    cast(report_id as varchar)                    as report_id,
    cast(source_file as varchar)                  as source_file,
    cast(format as varchar)                       as format,
    cast(error as varchar)                        as error,
    cast(error_kind as varchar)                   as error_kind,
    cast(parser_version as varchar)               as parser_version,
    cast(parsed_at as timestamp with time zone)   as parsed_at
from {{ source('raw', 'parse_errors') }}
