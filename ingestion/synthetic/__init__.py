"""Synthetic reports: canonical records rendered back into report files.

Not used by the parser.  ``ogi synth`` writes corpora with it (:mod:`.synth`), the
property tests render records in every layout and parse them back (:mod:`.render`),
and the benchmarks measure the pipeline on what it writes.  Word files need only
python-docx, which the parser uses too; PDFs need reportlab, an optional dependency
(the ``synth`` extra), checked by :func:`require_pdf_writer` before any is written.
"""
from __future__ import annotations

#: How to install what writing PDFs needs.
SYNTH_EXTRA = "pip install 'ogi-warehouse[synth]'"


class MissingDependency(ImportError):
    """An optional dependency of the synthetic renderer is not installed; the message says how to get it."""


def require_pdf_writer() -> None:
    """Raise :class:`MissingDependency` unless reportlab (which writes the PDFs) can be imported."""
    try:
        import reportlab  # noqa: F401
    except ImportError:
        raise MissingDependency(f"writing PDF reports needs reportlab, an optional dependency: {SYNTH_EXTRA}") from None
