"""Reading government information disclosure annual reports into canonical records.

No Dagster import here: these are pure functions over files and text, used by the
``ogi`` command line, the Dagster assets, the benchmarks and the tests alike.
"""

#: Bump when parsing changes what a file yields, or the columns it is stored in: the
#: warehouse re-parses every file whose stored parse was made by another version
#: (1.1: parse_errors.error_kind; 1.3: cells.rule, the layouts of PDF converters, crawlers and
#: saved web pages, PDFs whose text layer needs OCR; 1.3.1: crawler runs split only where no
#: reading with a blank cell printed as nothing fits, prose numbers kept out of table 2, stricter
#: title joins and 来源/截至/body-year metadata).
PARSER_VERSION = "1.3.1"
