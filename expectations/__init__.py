"""Data-quality gate of the warehouse: Great Expectations suites, the gate, its Dagster adapter and alerts.

Importing this package does not import Great Expectations or Dagster (STACK_NOTES P15);
:func:`expectations.gate.run_gate` and :mod:`expectations.dagster_adapter` import them when called.
"""
from __future__ import annotations

from .suites import SUITE_VERSION

__all__ = ["SUITE_VERSION"]
