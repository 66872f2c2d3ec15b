"""Write the warehouse's reference seeds and generated macros from the Python registries.

``ingestion/templates.py`` (the national forms, one ``Form`` record each) and
``expectations/rules.py`` (the quality rules, one ``Rule`` each) are the one place that
knows the forms and the rules.  This script turns them into what dbt reads, never edited
by hand:

* the seeds ``dbt_project/models/intermediate/reference/*.csv`` (``ref_templates``,
  ``ref_stock_rows``, ``ref_quality_rules``, the table keys and labels, ...);
* the macros ``dbt_project/macros/ogi_keys.sql`` (the key lists the SQL pivots name at
  compile time) and ``dbt_project/macros/ogi_rules.sql`` (the rule models that
  ``int_identity_terms`` unions).

Run it after changing templates.py or rules.py::

    .venv/bin/python dbt_project/scripts/generate_reference.py

``tests/test_dbt_models.py`` fails when a committed file differs from what this script
would write.

The seeds live under ``models/intermediate/`` (``seed-paths`` in dbt_project.yml) so that
the pre-gate build (``path:models/staging path:models/intermediate``) builds them too: the
rule models need them before the marts exist.
"""
from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # running the script from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from expectations import rules as rules_module  # noqa: E402
from ingestion import templates  # noqa: E402
from ingestion.templates import (  # noqa: E402
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    APPLICANT_LABELS,
    APPLICATION_ROWS,
    NON_OUTCOME_ROWS,
    OUTCOME_GROUPS,
    PROACTIVE_FIELD_LABELS,
    REVIEW_COLUMNS,
    REVIEW_RESULT_LABELS,
    REVIEW_ROW_LABELS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
    Form,
    application_rows,
)

DBT_DIR = Path(__file__).resolve().parents[1]
REFERENCE_DIR = DBT_DIR / "models" / "intermediate" / "reference"
MACRO_DIR = DBT_DIR / "macros"

#: The row (六) variants of table 3, in the order of APPLICATION_ROWS ("single", "split").
ROW_VARIANTS: tuple[str, ...] = tuple(dict.fromkeys(r.other_variant for r in APPLICATION_ROWS if r.other_variant))

#: How each variant of row (六) compares (the start of the note names the forms, see _variant_note).
VARIANT_COMPARISON = {
    "single": "row (六) printed as one row; comparable as group 'other'",
    "split": "row (六) printed as three rows; their sum is comparable with the single row 'other'",
}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _forms(forms: Sequence[Form] | None) -> tuple[Form, ...]:
    return tuple(templates.FORMS if forms is None else forms)


def _variant_note(variant: str | None, forms: Sequence[Form]) -> str:
    """e.g. "2019 form (and some 2021 reports): row (六) printed as one row; ..." """
    if variant is None:
        return ""
    own = [f.key for f in forms if f.other_variant == variant]
    others = [f.key for f in forms if f.other_variant != variant]
    head = " and ".join(own) + (" form" if len(own) == 1 else " forms")
    if variant == "single" and others:  # the source decides: newer forms' reports may print one row too
        head += f" (and some {' and '.join(others)} reports)"
    return f"{head}: {VARIANT_COMPARISON[variant]}"


def tables(forms: Sequence[Form] | None = None) -> dict[str, list[list[object]]]:
    """Every reference seed as a header row plus data rows (``forms``: templates.FORMS by default)."""
    forms = _forms(forms)
    out: dict[str, list[list[object]]] = {}

    out["ref_templates"] = [["template", "document", "first_year", "last_year", "other_variant"]] + [
        [f.key, f.document, "" if f.first_year is None else f.first_year,
         "" if f.last_year is None else f.last_year, f.other_variant]
        for f in forms
    ]

    out["ref_stock_rows"] = [["template", "row_key", "stock_field", "added_field", "removed_field"]] + [
        [f.key, s.row, s.stock, s.added, s.removed] for f in forms for s in f.stock_rows
    ]

    out["ref_quality_rules"] = rules_module.seed_rows()

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
            _variant_note(row.other_variant, forms),
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
    for form in forms:
        for variant in ROW_VARIANTS:
            for row in application_rows(variant):
                for col in APPLICANT_COLUMNS:
                    cells.append([form.key, "applications", variant, row.key, col])
        for row_key in REVIEW_ROWS:
            for col in REVIEW_COLUMNS:
                cells.append([form.key, "reviews", "any", row_key, col])
        for prow in form.proactive_rows:
            for field in prow.fields:
                cells.append([form.key, "proactive", "any", prow.key, field])
    out["ref_template_cells"] = cells

    # table 2's fields, with what kind of value each holds and the measure it is comparable
    # under across forms (Form.comparable; empty: specific to its form)
    out["ref_proactive_fields"] = [["template", "row_key", "row_label_zh", "field", "field_label_zh",
                                    "value_kind", "comparable_measure", "sort_order"]]
    i = 0
    for form in forms:
        for prow in form.proactive_rows:
            for field in prow.fields:
                i += 1
                kind = "amount" if field in AMOUNT_FIELDS else "signed_count" if field in SIGNED_FIELDS else "count"
                out["ref_proactive_fields"].append(
                    [form.key, prow.key, prow.label, field, PROACTIVE_FIELD_LABELS[field], kind,
                     form.comparable.get(f"{prow.key}.{field}", ""), i]
                )
    return out


def render(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# ---------------------------------------------------------------- macros

GENERATED = (
    "{{#- GENERATED by dbt_project/scripts/generate_reference.py from {source}: do not edit.\n"
    "    Change {source} and run the script again. -#}}\n"
)


def _jinja_list(keys: Sequence[str], indent: str = "        ", width: int = 96) -> str:
    """A Jinja list literal of string keys, wrapped at ``width``."""
    items = [f"'{k}'" for k in keys]
    one_line = "[" + ", ".join(items) + "]"
    if len(indent) + len(one_line) <= width:
        return one_line
    lines, line = [], ""
    for item in items:
        candidate = f"{line}, {item}" if line else item
        if len(indent) + 4 + len(candidate) + 1 > width:
            lines.append(line + ",")
            line = item
        else:
            line = candidate
    lines.append(line)
    return "[\n" + "\n".join(indent + "    " + ln for ln in lines) + "\n" + indent + "]"


def _list_macro(name: str, doc: str, keys: Sequence[str]) -> str:
    return (
        f"{{#- {doc} -#}}\n"
        f"{{% macro {name}() -%}}\n"
        f"    {{{{ return({_jinja_list(keys, indent='    ')}) }}}}\n"
        f"{{%- endmacro %}}\n"
    )


def keys_macros() -> str:
    """macros/ogi_keys.sql: the contract keys that the SQL pivots name at compile time."""
    outcome_rows = {v: [r.key for r in application_rows(v) if r.key not in NON_OUTCOME_ROWS] for v in ROW_VARIANTS}
    parts = [
        GENERATED.format(source="ingestion/templates.py"),
        "{#- The contract keys that the SQL pivots name at compile time. The full reference data\n"
        "    (labels, groups, sort orders) is in the seeds generated with this file;\n"
        "    tests/assert_key_macros_match_reference.sql checks these lists against them. -#}\n",
        _list_macro("ogi_applicant_parts", "Table 3 columns (applicant types) without the total column, in printed order.",
                    [c for c in APPLICANT_COLUMNS if c != "total"]),
        _list_macro("ogi_non_outcome_rows",
                    "Table 3 rows that describe applications, not outcomes. Every other row is an outcome.",
                    [r.key for r in APPLICATION_ROWS if r.key in NON_OUTCOME_ROWS]),
        _list_macro("ogi_split_other_rows", "Row (六) printed as three rows (row variant 'split').",
                    [r.key for r in APPLICATION_ROWS if r.other_variant == "split"]),
        _list_macro("ogi_denied_rows", "Table 3 rows of group \"denied\" (不予公开), in printed order.",
                    [r.key for r in APPLICATION_ROWS if r.group == "denied"]),
        _list_macro("ogi_review_parts", "Table 4 result columns without the total column.",
                    [c for c in REVIEW_COLUMNS if c != "total"]),
        _list_macro("ogi_row_variants", "The ways row (六) of table 3 is printed: one row (single) or three (split).",
                    list(ROW_VARIANTS)),
        "{#- Table 3 outcome rows in printed order for a row (六) variant (ogi_row_variants()). -#}\n"
        "{% macro ogi_outcome_rows(variant) -%}\n"
        "    {%- set rows = {\n"
        + ",\n".join(f"        '{v}': {_jinja_list(keys, indent='        ')}" for v, keys in outcome_rows.items())
        + "\n    } -%}\n"
        "    {%- if variant not in rows -%}\n"
        "        {{ exceptions.raise_compiler_error(\"ogi_outcome_rows: unknown row variant \" ~ variant) }}\n"
        "    {%- endif -%}\n"
        "    {{ return(rows[variant]) }}\n"
        "{%- endmacro %}\n",
    ]
    return "\n".join(parts)


def rules_macros() -> str:
    """macros/ogi_rules.sql: the rules on the identity terms, one model rules/rule_<name>.sql each."""
    return "\n".join([
        GENERATED.format(source="expectations/rules.py"),
        _list_macro("ogi_term_rules",
                    "The rules judged on int_identity_terms (source \"terms\"), in the order of rules.py:\n"
                    "    int_identity_terms unions the models rules/rule_<name>.sql of these names.",
                    [r.name for r in rules_module.TERM_RULES]),
    ])


def rendered(forms: Sequence[Form] | None = None) -> dict[Path, str]:
    """Path -> the text this script writes there (seeds and macros)."""
    out = {REFERENCE_DIR / f"{name}.csv": render(rows) for name, rows in tables(forms).items()}
    out[MACRO_DIR / "ogi_keys.sql"] = keys_macros()
    out[MACRO_DIR / "ogi_rules.sql"] = rules_macros()
    return out


def main() -> None:
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
