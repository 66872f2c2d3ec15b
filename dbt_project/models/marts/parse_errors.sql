-- Files the parser could not turn into a record, and why.
select
    report_id,
    source_file,
    format,
    error,
    error_kind,
    parser_version,
    parsed_at
from {{ ref('stg_parse_errors') }}
