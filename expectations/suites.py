"""The data-quality suites of the warehouse, defined in code and versioned.

Every suite is plain data here (:class:`SuiteSpec`, :class:`ExpectationSpec`):
a name, the batch it validates and its expectations, each one a Great
Expectations 1.x class name plus keyword arguments.  :func:`build_ge_suite`
turns a spec into a real ``great_expectations.ExpectationSuite``; Great
Expectations is imported only there (importing it costs seconds).

Two levels of expectation:

``report``  a failure quarantines the reports whose rows GE returns as
            unexpected; each such row becomes one ``quality_issues`` row.
            One expectation per rule.
``run``     a failure fails the whole run (schema drift, an unknown rule,
            too many bad reports): the gate's blocking check.

The batches (built by :mod:`expectations.batches` from the ``int_identity_terms``
and current-cells frames; helper columns are computed there, every verdict is
GE's):

``terms_structure``  the terms frame with zero rows: its columns and dtypes
``terms_rows``       report_id, scope, scope_kind, severity, residual, the helper
                     ``rule_severity`` ("rule:severity") and the helper
                     ``residual_error`` (residual - (lhs - rhs))
``rule.<rule>``      the residuals of one rule, indexed by the row position
                     in the terms frame (with Data Docs: (report_id, scope,
                     position)): GE hands that index back for unexpected rows
``cells_structure``  the cells frame with zero rows
``cells_rows``       report_id of every cell
``cell_values``      helpers ``value_nonneg`` (value, NaN for signed fields),
                     ``frac`` (value - floor(value), NaN for amounts) and
                     ``cell_key`` ("table.row.col"), indexed like the rule
                     batches (row position in the cells frame)
``run``              one row: parse_failure_share, decertified_share, bad_share

Changing any expectation changes :func:`suites_fingerprint`; bump
:data:`SUITE_VERSION` and :data:`SUITE_FINGERPRINT` together
(tests/test_expectations.py holds them to each other).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ingestion.templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
)

from .rules import BY_NAME, RULE_TABLES, SEVERITIES, TERM_RULES, TOLERANCE, Rule, Severity, rule_severity_pairs

#: The scope kinds of the identity terms (cell rules have scope kind ``cell``).
TERM_SCOPE_KINDS: tuple[str, ...] = ("column", "row", "report")

if TYPE_CHECKING:  # pragma: no cover
    import great_expectations as gx

#: Version of the suites below; bump with :data:`SUITE_FINGERPRINT` on any change.
SUITE_VERSION = "1.2.0"
#: sha256 of the suites' JSON (:func:`suites_fingerprint`) at :data:`SUITE_VERSION`.
SUITE_FINGERPRINT = "25eaef0b745268e398ecd3419136d924472957ea49b6c537fb1b8e4648172f68"

#: Prefix of every suite name (and of Data Docs pages).
SUITE_PREFIX = "ogi"
#: Expectation parameter (GE ``$PARAMETER``) carrying the run's max bad share.
MAX_SHARE_PARAMETER = "max_bad_share"
#: Name of the run-level Dagster check (blocking).
GATE_CHECK_NAME = "quality_gate"

Level = Literal["run", "report"]

TABLE_NAMES: tuple[str, ...] = ("applications", "reviews", "proactive")

#: Columns of the dbt model ``int_identity_terms`` (one row per report x rule x scope).
TERMS_COLUMNS: tuple[str, ...] = (
    "report_id", "rule", "severity", "table_name", "scope_kind", "scope", "lhs", "rhs", "residual", "cells",
)
TERMS_NUMERIC: tuple[str, ...] = ("lhs", "rhs", "residual")
#: Columns of the staging model ``stg_cells`` the gate needs (``raw``/``position`` are optional).
CELLS_COLUMNS: tuple[str, ...] = ("report_id", "table_name", "row_key", "col_key", "value")
CELLS_OPTIONAL: tuple[str, ...] = ("raw", "position")
#: Columns of ``quality_issues``, in order.
ISSUE_COLUMNS: tuple[str, ...] = (
    "report_id", "rule", "severity", "scope_kind", "scope",
    "expected", "actual", "residual", "cells", "checked_at",
)


def known_cell_keys() -> tuple[str, ...]:
    """Every ``table.row.col`` the two templates define (ingestion/templates.py), sorted."""
    keys: set[str] = set()
    for row in APPLICATION_ROWS:
        keys.update(f"applications.{row.key}.{col}" for col in APPLICANT_COLUMNS)
    for row_key in REVIEW_ROWS:
        keys.update(f"reviews.{row_key}.{col}" for col in REVIEW_COLUMNS)
    for rows in PROACTIVE_ROWS.values():
        for prow in rows:
            keys.update(f"proactive.{prow.key}.{f}" for f in prow.fields)
    return tuple(sorted(keys))


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as data: a GE 1.x class name, its kwargs and how the gate reads it.

    ``check_name`` is the Dagster check it feeds; ``rule`` the ``quality_issues``
    rule of its unexpected rows (level ``report``) or the reason it names (level ``run``).
    """

    type: str
    kwargs: dict[str, Any]
    rule: str
    level: Level
    severity: Severity
    check_name: str
    description: str


@dataclass(frozen=True)
class SuiteSpec:
    """A suite: its name, the batch it validates and its expectations."""

    name: str
    batch: str
    expectations: tuple[ExpectationSpec, ...]
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _run(type_: str, kwargs: dict[str, Any], rule: str, description: str) -> ExpectationSpec:
    return ExpectationSpec(type_, kwargs, rule, "run", "blocking", GATE_CHECK_NAME, description)


def _terms_structure() -> SuiteSpec:
    exps = [
        _run("ExpectTableColumnsToMatchSet", {"column_set": list(TERMS_COLUMNS), "exact_match": False},
             "schema_terms_columns", "int_identity_terms has every column the gate reads"),
    ]
    exps += [
        _run("ExpectColumnValuesToBeOfType", {"column": c, "type_": "float64"},
             f"schema_terms_{c}_float64", f"{c} is float64 (GE mishandles nullable integers)")
        for c in TERMS_NUMERIC
    ]
    return SuiteSpec(f"{SUITE_PREFIX}.terms.structure", "terms_structure", tuple(exps),
                     "Columns and dtypes of int_identity_terms")


def _terms_rows() -> SuiteSpec:
    exps = [
        _run("ExpectColumnValuesToNotBeNull", {"column": c}, f"schema_terms_{c}_not_null",
             f"every term has a {c}")
        for c in ("report_id", "scope", "residual")
    ]
    exps += [
        _run("ExpectColumnValuesToBeInSet", {"column": "rule_severity", "value_set": list(rule_severity_pairs())},
             "schema_terms_rule_known",
             "every rule is one the gate judges, with the severity the gate knows it by"),
        _run("ExpectColumnValuesToBeInSet", {"column": "severity", "value_set": list(SEVERITIES)},
             "schema_terms_severity", "severity is blocking or warning"),
        _run("ExpectColumnValuesToBeInSet", {"column": "scope_kind", "value_set": list(TERM_SCOPE_KINDS)},
             "schema_terms_scope_kind", "scope_kind is column, row or report"),
        _run("ExpectColumnValuesToBeInSet", {"column": "table_name", "value_set": list(RULE_TABLES)},
             "schema_terms_table_name", "table_name is a table of the form, or report"),
        _run("ExpectColumnValuesToBeBetween",
             {"column": "residual_error", "min_value": -TOLERANCE, "max_value": TOLERANCE},
             "schema_terms_residual_consistent", "residual = lhs - rhs"),
    ]
    return SuiteSpec(f"{SUITE_PREFIX}.terms.rows", "terms_rows", tuple(exps),
                     "Row-level schema of int_identity_terms")


def _rule_suite(spec: Rule) -> SuiteSpec:
    exp = ExpectationSpec(
        "ExpectColumnValuesToBeBetween",
        {"column": "residual", "min_value": -spec.tolerance, "max_value": spec.tolerance},
        spec.name, "report", spec.severity, spec.name,
        f"{spec.name} ({spec.severity}): {spec.description}; residual = lhs - rhs must be 0",
    )
    return SuiteSpec(f"{SUITE_PREFIX}.rule.{spec.name}", f"rule.{spec.name}", (exp,),
                     spec.description, {"rule": spec.name, "severity": spec.severity})


def _cells_structure() -> SuiteSpec:
    exps = (
        _run("ExpectTableColumnsToMatchSet", {"column_set": list(CELLS_COLUMNS), "exact_match": False},
             "schema_cells_columns", "stg_cells has every column the gate reads"),
        _run("ExpectColumnValuesToBeOfType", {"column": "value", "type_": "float64"},
             "schema_cells_value_float64", "value is float64, NaN = blank (GE mishandles nullable integers)"),
    )
    return SuiteSpec(f"{SUITE_PREFIX}.cells.structure", "cells_structure", exps,
                     "Columns and dtypes of stg_cells")


def _cells_rows() -> SuiteSpec:
    exps = (
        _run("ExpectColumnValuesToNotBeNull", {"column": "report_id"}, "schema_cells_report_id_not_null",
             "every cell belongs to a report"),
    )
    return SuiteSpec(f"{SUITE_PREFIX}.cells.rows", "cells_rows", exps, "Row-level schema of stg_cells")


def _cell_values() -> SuiteSpec:
    def cell(rule: str, type_: str, kwargs: dict[str, Any]) -> ExpectationSpec:
        spec = BY_NAME[rule]
        return ExpectationSpec(type_, kwargs, rule, "report", spec.severity, rule,
                               f"{rule} ({spec.severity}): {spec.description}")

    exps = (
        cell("value_non_negative", "ExpectColumnValuesToBeBetween", {"column": "value_nonneg", "min_value": 0}),
        cell("value_integer", "ExpectColumnValuesToBeBetween", {"column": "frac", "min_value": 0, "max_value": 0}),
        cell("key_known", "ExpectColumnValuesToBeInSet", {"column": "cell_key", "value_set": list(known_cell_keys())}),
    )
    return SuiteSpec(f"{SUITE_PREFIX}.cells.values", "cell_values", exps,
                     f"Values of stg_cells (signed fields: {sorted(SIGNED_FIELDS)}; "
                     f"decimal fields: {sorted(AMOUNT_FIELDS)})")


def _run_shares() -> SuiteSpec:
    param = {"$PARAMETER": MAX_SHARE_PARAMETER}
    exps = tuple(
        _run("ExpectColumnValuesToBeBetween", {"column": col, "min_value": 0, "max_value": param},
             f"run_{col}", text)
        for col, text in (
            ("parse_failure_share", "files that failed to parse / files in the run <= max share"),
            ("decertified_share", "reports with a blocking issue / parsed reports <= max share"),
            ("bad_share", "(parse failures + decertified reports) / files <= max share"),
        )
    )
    return SuiteSpec(f"{SUITE_PREFIX}.run.shares", "run", exps,
                     f"Run-level verdict; the max share is the parameter ${MAX_SHARE_PARAMETER} "
                     "(env OGI_MAX_BAD_SHARE, default 0.5)")


def suite_specs() -> tuple[SuiteSpec, ...]:
    """Every suite, in the order the gate runs them."""
    return (
        _terms_structure(),
        _terms_rows(),
        *(_rule_suite(r) for r in TERM_RULES),
        _cells_structure(),
        _cells_rows(),
        _cell_values(),
        _run_shares(),
    )


def check_names() -> tuple[str, ...]:
    """Every Dagster check name the gate reports: the gate first, then one per rule."""
    names = [GATE_CHECK_NAME]
    for suite in suite_specs():
        for exp in suite.expectations:
            if exp.check_name not in names:
                names.append(exp.check_name)
    return tuple(names)


def suites_as_json() -> list[dict[str, Any]]:
    """The suites as JSON-able data (what :func:`suites_fingerprint` hashes)."""
    return [asdict(s) for s in suite_specs()]


def suites_fingerprint() -> str:
    """sha256 of the suites' canonical JSON: changes whenever an expectation changes.

    The set of known cell keys is hashed as a reference to ingestion/templates.py
    (which owns it), so a new template row does not demand a suite version bump.
    """
    data = suites_as_json()
    for suite in data:
        for exp in suite["expectations"]:
            if exp["rule"] == "key_known":
                exp["kwargs"] = {**exp["kwargs"], "value_set": "ingestion.templates:known_cell_keys()"}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def build_ge_suite(spec: SuiteSpec) -> "gx.ExpectationSuite":
    """A Great Expectations ``ExpectationSuite`` from ``spec`` (imports GE lazily).

    Each expectation carries the gate's bookkeeping in ``meta`` (rule, level,
    severity, check name) and its GE ``severity`` (critical for blocking,
    warning otherwise), so Data Docs show the same classification.
    """
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=spec.name,
        meta={"ogi_suite_version": SUITE_VERSION, "batch": spec.batch,
              "description": spec.description, **spec.meta},
    )
    for exp in spec.expectations:
        cls = getattr(gx.expectations, exp.type)
        suite.add_expectation(
            cls(
                **exp.kwargs,
                meta={"rule": exp.rule, "level": exp.level, "severity": exp.severity,
                      "check_name": exp.check_name, "ogi_suite_version": SUITE_VERSION},
                notes=exp.description,
                severity="critical" if exp.severity == "blocking" else "warning",
            )
        )
    return suite
