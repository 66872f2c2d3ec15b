"""The quality gate of the warehouse: rules, Great Expectations suites, the gate, alerts, Dagster checks.

Modules, in the order the data goes through them: ``rules`` (the rules, as data),
``suites`` (the Great Expectations suites built from them), ``state`` (what the gate keeps
between runs), ``load`` (what it reads from the built warehouse), ``batches`` (frames made
into GE batches), ``run`` (Great Expectations run part by part), ``issues`` (the
``quality_issues`` table), ``gate`` (all of it, for one run), then ``alerts`` and
``dagster_adapter``.

Importing this package imports neither Great Expectations nor Dagster (importing Great
Expectations takes seconds, and the Dagster code location must load quickly): the modules
that need them import them inside their functions.
"""
from __future__ import annotations

from .suites import SUITE_VERSION

__all__ = ["SUITE_VERSION"]
