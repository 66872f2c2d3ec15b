"""Where each page of the site is, relative to the site's folder (``HOME/inspector/``).

Standard library only: the alerts name these pages too (orchestration/defs/quality.py).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Mapping

#: The site's folder under the warehouse home.
SITE_DIR = "inspector"
INDEX = "index.html"
INDICATORS = "indicators.html"
QUARANTINED = "quarantined.html"
AGENCIES = "agencies.html"
_HEX_ID = re.compile(r"[0-9a-f]{16}")


def agency_key(agency_id: str | None) -> str:
    """The file name of a body's page: its ``agency_id`` (marts.dim_agency: 16 hex digits, the same
    across years and the names it printed); anything else is hashed to 16 hex digits."""
    text = agency_id or ""
    if _HEX_ID.fullmatch(text):
        return text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def report_page(report_id: str) -> str:
    return f"reports/{report_id}.html"


def agency_page(agency_id: str) -> str:
    """The page of the body ``agency_id`` (marts.dim_agency)."""
    return f"agencies/{agency_key(agency_id)}.html"


def listing_page(first: str, number: int) -> str:
    """Page ``number`` (1, 2, …) of a paginated listing: quarantined.html, quarantined-2.html, …"""
    stem = first.removesuffix(".html")
    return first if number == 1 else f"{stem}-{number}.html"


def issue_page(site: Path, issue: Mapping[str, Any]) -> str | None:
    """The page an alert's issue links to: the report's page for a blocking issue (the report is
    quarantined), its body's page (by ``agency_id``) for a warning on a report that names its agency
    (bodies with issues have one)."""
    if issue.get("severity") == "blocking" and issue.get("report_id"):
        return str(Path(site) / report_page(str(issue["report_id"])))
    if issue.get("agency_id") and issue.get("agency"):
        return str(Path(site) / agency_page(str(issue["agency_id"])))
    return None
