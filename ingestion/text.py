"""Text primitives: label normalisation and the classification of cell tokens.

Everything here is precompiled at import: the parser calls these once per token.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from .memo import memoize

NBSP = "\xa0"

#: The marks that print a blank cell, as they read after NFKC (full-width "－", "／" are "-",
#: "/" by then), longest first: the one list of them the parser knows (a cell token, a run of
#: glued cells, the runs cut out of crawler text).  An NBSP is an empty cell (&nbsp;).
BLANK_MARKS: tuple[str, ...] = ("——", "—-", "--", "—", "–", "─", "-", "/", "\\", NBSP)
#: Words that print a blank cell: a whole cell only, never part of a run of digits.
BLANK_WORDS: tuple[str, ...] = ("无", "空")
# Tokens that mean "blank cell" on these forms, kept raw for provenance.
_BLANK_TOKENS = frozenset({"", *BLANK_MARKS, *BLANK_WORDS})

# A number as printed in a cell: sign, digits (thousands separators allowed),
# decimals, and a unit. Applied to NFKC-normalised tokens.
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>万元|亿元|元|件|个|条|项|次)?$"
)
_WS = re.compile(r"\s+")
# Item numbering written as 1、 / 1． / （1） all becomes 1. / (1) after normalisation.
_LABEL_PUNCT = str.maketrans({"、": ".", "，": ",", "：": ":", "“": '"', "”": '"', "‘": "'", "’": "'"})
_LABEL_PUNCT_PAIRS = tuple((chr(k), v) for k, v in _LABEL_PUNCT.items())  # single characters to ASCII


# Full-width ASCII and the ideographic space, each to its compatibility decomposition.
# Replacing characters by their decompositions leaves a text's NFKD, hence its NFKC,
# unchanged; Chinese text is usually already NFKC once these are replaced, which
# unicodedata checks far faster than it normalises.
_WIDE = {chr(c): unicodedata.normalize("NFKD", chr(c)) for c in [*range(0xFF01, 0xFF5F), 0x3000]}
_WIDE_CHAR = re.compile("[\uff01-\uff5e\u3000]")


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, quickly for the usual Chinese text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    narrow = text
    for wide in set(_WIDE_CHAR.findall(text)):  # a few replace() calls: far quicker than translate()
        narrow = narrow.replace(wide, _WIDE[wide])
    if narrow is not text and unicodedata.is_normalized("NFKC", narrow):
        return narrow
    return unicodedata.normalize("NFKC", text)


def nfkc_keep_nbsp(text: str) -> str:
    """NFKC, but an NBSP (an empty cell, &nbsp;) stays one, and a minus sign (U+2212) is "-"."""
    return nfkc(text.replace(NBSP, "\x00")).replace("\x00", NBSP).replace("\u2212", "-")


@memoize(1 << 16)
def normalize_label(text: str) -> str:
    """A label for matching: NFKC (full-width → half-width), numbering unified, no whitespace."""
    # str.split() splits on exactly the characters \s matches (str.isspace): "".join(split()) is _WS.sub("", ...)
    label = nfkc(text)
    for old, new in _LABEL_PUNCT_PAIRS:  # a few replace() calls: quicker than translate() on CJK text
        if old in label:
            label = label.replace(old, new)
    return "".join(label.split())


class Token(NamedTuple):
    """A cell token from the source: a number (with its unit) or a blank, with its position."""

    raw: str
    number: Decimal | None  # None = blank
    unit: str
    position: str


# First characters a number or a blank token can start with; anything else is text.
_CELL_START = frozenset("0123456789０１２３４５６７８９+-−＋－—–─/／\\无空" + NBSP)


def classify(raw: str) -> tuple[Decimal | None, str] | None:
    """Classify one token: ``(number, unit)``, ``(None, "")`` for a blank, ``None`` for text."""
    first = raw[:1]
    if first and first not in _CELL_START and not first.isspace():
        return None  # text (the fast path of _classify, without its memo: prose is mostly one-off)
    return _classify(raw)


@memoize(1 << 16)  # the same few tokens ("0", "1") recur in every report
def _classify(raw: str) -> tuple[Decimal | None, str] | None:
    stripped = raw.strip()
    if not stripped or stripped.strip(NBSP + " ") == "":
        return None, ""
    if stripped[0] not in _CELL_START or len(stripped) > 24:
        return None  # fast path: labels and prose
    token = nfkc(stripped).replace(" ", "")
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


#: The lookup of :func:`classify`'s table of cell tokens seen before: ``classified(raw, default)``.
#: A miss says nothing (call classify); a hit is what classify returns, without the call.
classified = _classify.memo.get  # type: ignore[attr-defined]


def nbsp_blank_count(raw: str) -> int:
    """How many blank cells a token of non-breaking spaces stands for (one NBSP per blank cell).

    Pages that collapse a run of empty cells into one line print one NBSP per
    cell, separated by ordinary spaces (seed 003).  Returns 0 for other tokens.
    """
    if NBSP not in raw or raw.replace(NBSP, "").strip(" ") != "":
        return 0
    return raw.count(NBSP)
