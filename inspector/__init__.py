"""The inspector: a static HTML site of the published warehouse, for people to look at.

``build_site(HOME/warehouse.duckdb, HOME/inspector)`` writes:

``index.html``        overview: reports by year, template, province and format, certified share
                      per table, quarantines by cause, parse errors by kind, the run history
``indicators.html``   the indicators of marts.agg_agency_year: distributions, by year, by province,
                      denial rate by reason
``quarantined.html``  the quarantined reports (paginated), each with a page ``reports/<report_id>.html``:
                      its tables as printed, the cells of each broken rule marked
``agencies.html``     the agencies with a quality issue (paginated), each with a page
                      ``agencies/<key>.html``: reports over the years, indicators, identity 5

Modules: ``queries`` (SQL, read-only), ``identities`` (an issue's cells and residual),
``forms`` (a report's tables as the form prints them), ``charts`` (altair + vl-convert to
inline SVG), ``pages`` (each page's content), ``site`` (templates, writing, the swap),
``history`` (the run history file), ``links`` (where each page is), ``labels``, ``regions``.
Importing the package imports nothing heavy (``build_site`` loads on first use).
Nothing here reads the environment: the Dagster asset (orchestration/defs/inspector.py)
and ``ogi inspect`` pass the paths.
"""
from __future__ import annotations

from typing import Any

__all__ = ["SiteStats", "build_site"]


def __getattr__(name: str) -> Any:
    # lazily: ``inspector.links`` (named in alerts) must not import altair, DuckDB and jinja2
    if name in __all__:
        from . import site

        return getattr(site, name)
    raise AttributeError(f"module 'inspector' has no attribute {name!r}")
