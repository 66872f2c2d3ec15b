"""Where each page of the site is, relative to the site's folder (``HOME/inspector/``).

Standard library only: the alerts name these pages too (orchestration/defs/quality.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

#: The site's folder under the warehouse home.
SITE_DIR = "inspector"
INDEX = "index.html"
INDICATORS = "indicators.html"
QUARANTINED = "quarantined.html"
AGENCIES = "agencies.html"


def agency_key(agency: str | None) -> str:
    """The file name of an agency's page: 16 hex digits of the sha256 of its name (dim_agency's id when it lands)."""
    return hashlib.sha256((agency or "").encode("utf-8")).hexdigest()[:16]


def report_page(report_id: str) -> str:
    return f"reports/{report_id}.html"


def agency_page(agency: str) -> str:
    return f"agencies/{agency_key(agency)}.html"


def listing_page(first: str, number: int) -> str:
    """Page ``number`` (1, 2, …) of a paginated listing: quarantined.html, quarantined-2.html, …"""
    stem = first.removesuffix(".html")
    return first if number == 1 else f"{stem}-{number}.html"


def issue_page(site: Path, issue: Mapping[str, Any]) -> str | None:
    """The page an alert's issue links to: the report's page for a blocking issue (the report is
    quarantined), its agency's page for a warning (agencies with issues have one)."""
    if issue.get("severity") == "blocking" and issue.get("report_id"):
        return str(Path(site) / report_page(str(issue["report_id"])))
    if issue.get("agency"):
        return str(Path(site) / agency_page(str(issue["agency"])))
    return None
