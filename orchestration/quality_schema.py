"""Schema of ``quality_issues.parquet``: what the quality gate found, one row per broken rule and scope.

Read by the dbt source ``quality.quality_issues``. (Lives here until the lead moves it
next to the other Parquet schemas in ingestion/schema.py.)
"""
from __future__ import annotations

import pyarrow as pa

QUALITY_ISSUES_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("rule", pa.string()),  # which identity or expectation
        ("severity", pa.string()),  # 'blocking' (held out of the certified marts) or 'warning'
        ("scope_kind", pa.string()),  # e.g. column, row
        ("scope", pa.string()),  # which column / row of the report
        ("expected", pa.float64()),
        ("actual", pa.float64()),
        ("residual", pa.float64()),
        ("cells", pa.string()),  # the cells that show it (JSON)
        ("checked_at", pa.timestamp("us")),
    ]
)
