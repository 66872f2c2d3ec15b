"""The quality rules of the warehouse: one entry each, the one place that names them.

A rule is judged on one of two inputs:

``terms``  the dbt model ``intermediate.int_identity_terms``: one row per report x rule x
           scope with both sides of an identity and the residual.  Each such rule has its
           own dbt model, ``dbt_project/models/intermediate/rules/rule_<name>.sql``; the
           seed ``ref_quality_rules`` (generated from this list) gives every term row its
           severity, and Great Expectations checks that each residual is 0.
``cells``  the current cells themselves (``intermediate.int_current_cells``): value rules
           that Great Expectations judges on the cells' helper columns.

``severity`` says what a broken rule does: ``blocking`` holds the table it concerns out of the
certified marts (the whole report for a rule about the report), ``warning`` is listed and
changes nothing else.  ``table`` is the table of the form the rule is about: ``report`` for the
report as a whole, or for a rule whose scope names the table (``keys_present``,
``cells_unread``) or the cell (the cell rules).  Each issue carries the table it concerns
(``quality_issues.table_name``).

``cause`` says whom a broken rule blames: ``report`` (the report's own numbers do not add up,
or are not possible values), ``parser`` (the parser could not read some cells: the report is not
to blame) or ``metadata`` (the report's agency or year was not found).  Alerts and the run
summary count quarantined reports by cause.

Adding a rule: docs/ARCHITECTURE.md has the checklist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["blocking", "warning"]

SEVERITIES: tuple[str, ...] = ("blocking", "warning")
#: What the scope of an issue names: an applicant column, a row, the report (or one of its
#: tables), or one cell (``table.row.col``).
SCOPE_KINDS: tuple[str, ...] = ("column", "row", "report", "cell")
#: The tables of the form a rule can be about; ``report`` is the report as a whole.
RULE_TABLES: tuple[str, ...] = ("applications", "reviews", "proactive", "report")
#: Default tolerance on a residual: the identities hold between integer counts.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Rule:
    """One quality rule: its name, severity, the table it is about, and what it asserts."""

    name: str
    severity: Severity
    table: str
    scope_kind: str
    source: Literal["terms", "cells"]
    description: str
    cause: Literal["report", "parser", "metadata"] = "report"
    tolerance: float = TOLERANCE


RULES: tuple[Rule, ...] = (
    Rule("identity_1_balance", "blocking", "applications", "column", "terms",
         "table 3, per applicant column: new_received + carried_over = total + carried_forward"),
    Rule("identity_2_outcomes", "blocking", "applications", "column", "terms",
         "table 3, per applicant column: total = sum of the outcome rows"),
    Rule("identity_3_applicants", "blocking", "applications", "row", "terms",
         "table 3, per row: total column = sum of the six applicant columns"),
    Rule("identity_4_reviews", "blocking", "reviews", "row", "terms",
         "table 4, per row: total = upheld + corrected + other + pending"),
    Rule("keys_present", "blocking", "report", "report", "terms",
         "per report x table: cells present = cells the template requires"),
    Rule("cells_unread", "blocking", "report", "report", "terms",
         "per report x table: no cell the parser could not read (the table's identities are not judged "
         "while it has one)", cause="parser"),
    Rule("metadata_missing", "blocking", "report", "report", "terms",
         "the report's agency and year were found (scope: agency, year)", cause="metadata"),
    Rule("identity_5_carry_over", "warning", "applications", "column", "terms",
         "across years, per agency and column: carried_over(year) = carried_forward(year - 1)"),
    Rule("stock_rule", "warning", "proactive", "row", "terms",
         "table 2 across years: the stock of regulations and normative documents carries over"),
    Rule("template_year", "warning", "report", "report", "terms",
         "the template matches the year (the form in use in the report's year)"),
    Rule("value_non_negative", "blocking", "report", "cell", "cells",
         "every value is >= 0, except the signed field `change` (blank is allowed)"),
    Rule("value_integer", "blocking", "report", "cell", "cells",
         "every count is an integer: value - floor(value) = 0 (amounts may be decimal)"),
    Rule("key_known", "blocking", "report", "cell", "cells",
         "table.row.col is a cell of one of the national templates"),
)

#: Rule name -> rule.
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
#: The rules judged on ``int_identity_terms``, in the order the gate runs them.
TERM_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.source == "terms")
#: The rules judged on the cells.
CELL_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.source == "cells")
#: What a quarantine is blamed on, in the order summaries name them: (one report, several).
CAUSES: dict[str, tuple[str, str]] = {
    "report": ("breaks its own identities or values", "break their own identities or values"),
    "parser": ("has cells the parser could not read", "have cells the parser could not read"),
    "metadata": ("lacks its agency or year", "lack their agency or year"),
}


def rule_severity_pairs() -> tuple[str, ...]:
    """The allowed values of the gate's helper column ``rule_severity`` ("rule:severity")."""
    return tuple(f"{r.name}:{r.severity}" for r in TERM_RULES)


def seed_rows() -> list[list[object]]:
    """The dbt seed ``ref_quality_rules``: a header row and one row per rule."""
    return [["rule", "severity", "table_name", "scope_kind", "source", "cause", "description"]] + [
        [r.name, r.severity, r.table, r.scope_kind, r.source, r.cause, r.description] for r in RULES
    ]
