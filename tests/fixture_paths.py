"""Where the tests find their sample reports: one copy of each file.

The seed reports and the real reports as text are the bundled samples
(``orchestration/samples/``, the default inbox); the real reports as PDFs and the
golden records (what ``ogi parse`` must print) are in ``tests/fixtures/``.
"""
from __future__ import annotations

from pathlib import Path

from orchestration.paths import SAMPLES_DIR

REPO = Path(__file__).resolve().parents[1]
#: The five seed reports (``000_….txt``) and the real reports as text (``hzq2023.txt``, …).
SAMPLES = SAMPLES_DIR
FIXTURES = REPO / "tests" / "fixtures"
#: The golden record of each seed report: ``<seed>.json``.
GOLDEN_DIR = FIXTURES / "golden"
#: The real reports as PDFs (``hzq2023.pdf``, …).
REALWORLD_DIR = FIXTURES / "realworld"
#: The golden record of each real report, as text and as PDF: ``<file name>.json``.
REALWORLD_GOLDEN_DIR = REALWORLD_DIR / "golden"
#: The seed reports, in name order.
SEEDS = sorted(SAMPLES / f"{g.stem}.txt" for g in GOLDEN_DIR.glob("*.json"))


def real_report(name: str) -> Path:
    """A real report by file name: the text from the samples, the PDF from the fixtures."""
    return (SAMPLES if name.endswith(".txt") else REALWORLD_DIR) / name
