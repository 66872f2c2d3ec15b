"""Text primitives: label normalisation and the classification of cell tokens.

Everything here is precompiled at import: the parser calls these once per token.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from decimal import Decimal, InvalidOperation
from functools import lru_cache

NBSP = "\xa0"

# Tokens that mean "blank cell" on these forms, kept raw for provenance.
_BLANK_TOKENS = frozenset({"", "/", "-", "—", "——", "–", "－", "─", "无", "空", "\\", "／", "—-", "--"})

# A number as printed in a cell: sign, digits (thousands separators allowed),
# decimals, and a unit. Applied to NFKC-normalised tokens.
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>万元|亿元|元|件|个|条|项|次)?$"
)
_WS = re.compile(r"\s+")
# Item numbering written as 1、 / 1． / （1） all becomes 1. / (1) after normalisation.
_LABEL_PUNCT = str.maketrans({"、": ".", "，": ",", "：": ":", "“": '"', "”": '"', "‘": "'", "’": "'"})


@lru_cache(maxsize=1 << 16)
def normalize_label(text: str) -> str:
    """A label for matching: NFKC (full-width → half-width), numbering unified, no whitespace."""
    return _WS.sub("", unicodedata.normalize("NFKC", text).translate(_LABEL_PUNCT))


class Token(NamedTuple):
    """A cell token from the source: a number (with its unit) or a blank, with its position."""

    raw: str
    number: Decimal | None  # None = blank
    unit: str
    position: str


# First characters a number or a blank token can start with; anything else is text.
_CELL_START = frozenset("0123456789０１２３４５６７８９+-−＋－—–─/／\\无空" + NBSP)


@lru_cache(maxsize=1 << 16)  # the same few tokens ("0", "1", labels) recur in every report
def classify(raw: str) -> tuple[Decimal | None, str] | None:
    """Classify one token: ``(number, unit)``, ``(None, "")`` for a blank, ``None`` for text."""
    stripped = raw.strip()
    if not stripped or stripped.strip(NBSP + " ") == "":
        return None, ""
    if stripped[0] not in _CELL_START or len(stripped) > 24:
        return None  # fast path: labels and prose
    token = unicodedata.normalize("NFKC", stripped).replace(" ", "")
    if token in _BLANK_TOKENS:
        return None, ""
    m = _NUMBER.match(token)
    if m is None:
        return None
    try:
        number = Decimal(m.group("num").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None
    if m.group("sign") in ("-", "−"):
        number = -number
    return number, m.group("unit") or ""


def nbsp_blank_count(raw: str) -> int:
    """How many blank cells a token of non-breaking spaces stands for (one NBSP per blank cell).

    Pages that collapse a run of empty cells into one line print one NBSP per
    cell, separated by ordinary spaces (seed 003).  Returns 0 for other tokens.
    """
    if NBSP not in raw or raw.replace(NBSP, "").strip(" ") != "":
        return 0
    return raw.count(NBSP)
