"""Write the warehouse's reference seeds from ``ingestion/templates.py``.

The seeds in ``dbt_project/models/intermediate/reference/*.csv`` are generated,
never edited by hand: ``ingestion/templates.py`` is the one place that knows the
form.  Run this after changing templates.py::

    .venv/bin/python dbt_project/scripts/generate_reference.py

``tests/test_dbt_models.py`` fails when a committed CSV differs from what this
script would write.

The seeds live under ``models/intermediate/`` (``seed-paths`` in
dbt_project.yml) so that ``dbt build --select path:models/staging
path:models/intermediate`` builds them too: the identity model needs them before
the marts exist.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # running the script from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from ingestion.templates import (  # noqa: E402
    APPLICANT_COLUMNS,
    APPLICANT_LABELS,
    APPLICATION_ROWS,
    NON_OUTCOME_ROWS,
    OUTCOME_GROUPS,
    PROACTIVE_FIELD_LABELS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_RESULT_LABELS,
    REVIEW_ROW_LABELS,
    REVIEW_ROWS,
    TEMPLATES,
    application_rows,
)

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "models" / "intermediate" / "reference"

#: How each table-3 row (六) variant is written on the form.
VARIANT_NOTE = {
    None: "",
    "single": "2019 form (and some 2021 reports): row (六) printed as one row; comparable as group 'other'",
    "split": "2021 form: row (六) printed as three rows; their sum is comparable with the single row 'other'",
}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def tables() -> dict[str, list[list[object]]]:
    """Every reference seed as a header row plus data rows."""
    out: dict[str, list[list[object]]] = {}

    out["ref_applicant_types"] = [["applicant_type", "label_zh", "label_en", "sort_order", "is_total"]] + [
        [key, *APPLICANT_LABELS[key], i + 1, _bool(key == "total")] for i, key in enumerate(APPLICANT_COLUMNS)
    ]

    out["ref_outcome_groups"] = [["outcome_group", "label_zh", "label_en", "sort_order"]] + [
        [key, zh, en, i + 1] for i, (key, (zh, en)) in enumerate(OUTCOME_GROUPS.items())
    ]

    out["ref_application_rows"] = [
        [
            "row_key", "label_zh", "label_en", "row_group", "is_outcome", "row_variant",
            "comparable_outcome", "comparability_note", "sort_order",
        ]
    ] + [
        [
            row.key,
            row.label,
            row.english,
            row.group,
            _bool(row.key not in NON_OUTCOME_ROWS),
            row.other_variant or "both",
            ("other" if row.group == "other" else row.key) if row.key not in NON_OUTCOME_ROWS else "",
            VARIANT_NOTE[row.other_variant],
            i + 1,
        ]
        for i, row in enumerate(APPLICATION_ROWS)
    ]

    out["ref_proceedings"] = [["proceeding", "label_zh", "label_en", "proceeding_kind", "sort_order"]] + [
        [key, *REVIEW_ROW_LABELS[key], "reconsideration" if key == "reconsideration" else "litigation", i + 1]
        for i, key in enumerate(REVIEW_ROWS)
    ]

    out["ref_review_results"] = [["review_result", "label_zh", "label_en", "sort_order", "is_total"]] + [
        [key, *REVIEW_RESULT_LABELS[key], i + 1, _bool(key == "total")] for i, key in enumerate(REVIEW_COLUMNS)
    ]

    # Every cell a report must have, by template; table 3 by row (六) variant.
    cells: list[list[object]] = [["template", "table_name", "row_variant", "row_key", "col_key"]]
    for template in TEMPLATES:
        for variant in ("single", "split"):
            for row in application_rows(variant):
                for col in APPLICANT_COLUMNS:
                    cells.append([template, "applications", variant, row.key, col])
        for row_key in REVIEW_ROWS:
            for col in REVIEW_COLUMNS:
                cells.append([template, "reviews", "any", row_key, col])
        for prow in PROACTIVE_ROWS[template]:
            for field in prow.fields:
                cells.append([template, "proactive", "any", prow.key, field])
    out["ref_template_cells"] = cells

    out["ref_proactive_fields"] = [["template", "row_key", "row_label_zh", "field", "field_label_zh", "sort_order"]]
    i = 0
    for template in TEMPLATES:
        for prow in PROACTIVE_ROWS[template]:
            for field in prow.fields:
                i += 1
                out["ref_proactive_fields"].append(
                    [template, prow.key, prow.label, field, PROACTIVE_FIELD_LABELS[field], i]
                )
    return out


def render(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def rendered() -> dict[str, str]:
    """File name -> the CSV text this script writes."""
    return {f"{name}.csv": render(rows) for name, rows in tables().items()}


def main() -> None:
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (REFERENCE_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {REFERENCE_DIR / name}")


if __name__ == "__main__":
    main()
