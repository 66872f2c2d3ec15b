"""The gate's inputs as Great Expectations batches: helper columns and row indices.

The gate hands Great Expectations pandas frames (DuckDB cannot be validated over SQL by
GE 1.x: its SQL engine returns no rows for DuckDB), built here from the frames of
``int_identity_terms`` and the current cells.  Nothing here judges a value: helper columns
(``value - floor(value)``, ``rule:severity``, ``table.row.col``) are computed so that a plain
GE expectation can judge them, and every batch is indexed by the row's position in its
input frame, so that GE's unexpected rows point straight back at a term or a cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ingestion.templates import AMOUNT_FIELDS, SIGNED_FIELDS

from .rules import TERM_RULES
from .suites import CELLS_COLUMNS, TERMS_COLUMNS, TERMS_NUMERIC

#: Column names of dbt's stg_cells -> the names the gate uses (the Parquet ``cells`` table's).
CELLS_RENAMES = {"raw_token": "raw", "source_position": "position"}


#: Frames longer than this get positional batch indices in Data Docs instead of readable ones.
LABELLED_ROWS_MAX = 1_000_000


def empty_frame(columns: Iterable[str], numeric: Iterable[str]) -> pd.DataFrame:
    numeric = set(numeric)
    return pd.DataFrame({c: pd.Series([], dtype="float64" if c in numeric else "str") for c in columns})

def _as_float(s: pd.Series) -> pd.Series:
    """``s`` as float64 when it is numeric (ints, nullable ints, decimals); unchanged otherwise."""
    if s.dtype == "float64":
        return s
    if pd.api.types.is_string_dtype(s.dtype) and not s.empty:
        return s  # leave strings alone: the dtype expectation reports them
    try:
        return s.astype("float64")
    except (TypeError, ValueError):
        return s

def normalise(frame: pd.DataFrame | None, columns: Iterable[str], numeric: Iterable[str]) -> pd.DataFrame:
    """Coerce numeric columns to float64; a column-less empty frame becomes the empty schema.

    Great Expectations on pandas 3 mishandles nullable integers (``pd.NA`` is ambiguous in
    its comparisons), so every numeric column it sees is float64, NaN for blank.
    """
    columns, numeric = tuple(columns), tuple(numeric)
    if frame is None or (len(frame.columns) == 0 and len(frame) == 0):
        return empty_frame(columns, numeric)
    frame = frame.reset_index(drop=True)
    for c in numeric:
        if c in frame.columns:
            frame[c] = _as_float(frame[c])
    return frame

def _label(value: Any) -> str:
    return "<null>" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)

def _factorize(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and string labels of ``s`` (nulls get a code too, labelled ``<null>``)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        # a categorical is factorized already: its codes, with nulls (-1) as one more label
        # (some categories may be unused: labels need not all occur, codes are what count)
        codes = np.asarray(s.cat.codes, dtype=np.int64)
        labels = [_label(c) for c in np.asarray(s.cat.categories, dtype=object)]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(labels), codes)
            labels.append("<null>")
        return codes, labels
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    # to_numpy first: iterating an Arrow-backed array element by element is slow
    return np.asarray(codes, dtype=np.int64), [_label(u) for u in np.asarray(uniques, dtype=object)]

def _index_codes(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """``codes`` in the smallest int dtype MultiIndex would coerce them to (so it does not copy again)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_labels < np.iinfo(dtype).max:
            return codes.astype(dtype, copy=False)
    return codes.astype(np.int64, copy=False)

def _level(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and a str Index of labels of ``s``: one level of :func:`_row_index`."""
    codes, labels = _factorize(s)
    return _index_codes(codes, len(labels)), pd.Index(labels, dtype="str")

def _concat_labels(parts: list[pd.Series], sep: str) -> pd.Categorical:
    out = parts[0].map(_label).astype(object)
    for p in parts[1:]:
        out = out + sep + p.map(_label).astype(object)
    return pd.Categorical(out)

def _combined_key(parts: list[pd.Series], sep: str,
                  factorized: list[tuple[np.ndarray, list[str]] | None] | None = None) -> pd.Categorical:
    """``sep.join(parts)`` per row as a Categorical, built from factorized codes (no per-row Python).

    Nulls read ``<null>``.  Used for helper columns such as ``cell_key``.
    ``factorized`` may hand in codes already computed for some parts.
    """
    n = len(parts[0]) if parts else 0
    combined = np.zeros(n, dtype=np.int64)
    uniques_list: list[list[str]] = []
    radix = 1
    for i, s in enumerate(parts):
        pre = factorized[i] if factorized else None
        codes, labels = pre if pre is not None else _factorize(s)
        size = max(len(labels), 1)
        radix *= size
        if radix > 2**62:  # absurd cardinality: plain strings
            return _concat_labels(parts, sep)
        combined = combined * size + codes
        uniques_list.append(labels)
    codes2, used = pd.factorize(combined)
    names: list[str] = []
    for code in used:
        pieces = []
        for labels in reversed(uniques_list):
            size = max(len(labels), 1)
            pieces.append(labels[int(code % size)])
            code //= size
        names.append(sep.join(reversed(pieces)))
    if len(set(names)) != len(names):  # a separator inside a value made two keys alike
        return _concat_labels(parts, sep)
    return pd.Categorical.from_codes(codes2, categories=names)

def _row_index(pos: np.ndarray, keys: list[tuple[np.ndarray, pd.Index]] | None) -> pd.Index:
    """The index of a batch: (key labels..., row position in the input frame), built from codes.

    GE returns the index entries of unexpected rows (``unexpected_index_list``);
    the last element is the row position, the others make Data Docs readable
    (e.g. ``('hzq2023', 'reconsideration', 37)``).  Unnamed levels keep GE on its
    vectorised path (named indices or ``unexpected_index_column_names`` cost a
    Python ``.at`` per unexpected row).  Without ``keys`` (no Data Docs to read)
    the index is the bare row position, which saves factorizing the labels.
    """
    pos = np.asarray(pos, dtype=np.int64)
    if keys is None:
        return pd.Index(pos, dtype="int64")
    levels = [labels for _, labels in keys] + [pd.Index(pos, dtype="int64")]
    codes = [c[pos] for c, _ in keys] + [_index_codes(np.arange(len(pos)), len(pos))]
    return pd.MultiIndex(levels=levels, codes=codes, verify_integrity=False)

@dataclass
class Batches:
    """The batches built from one input frame, and those that could not be built (and why)."""

    frames: dict[str, pd.DataFrame]
    skipped: dict[str, str]  # batch -> why it could not be built

def terms_batches(terms: pd.DataFrame, labelled: bool = True) -> Batches:
    """``terms_structure``, ``terms_rows`` and one ``rule.<name>`` batch per term rule (suites.py)."""
    frames: dict[str, pd.DataFrame] = {"terms_structure": terms.iloc[:0]}
    skipped: dict[str, str] = {}
    missing = [c for c in TERMS_COLUMNS if c not in terms.columns]
    if missing:
        why = f"int_identity_terms lacks columns {missing}"
        skipped["terms_rows"] = why
        for r in TERM_RULES:
            skipped[f"rule.{r.name}"] = why
        return Batches(frames, skipped)

    residual = terms["residual"]
    numeric_ok = all(terms[c].dtype == "float64" for c in TERMS_NUMERIC)
    rule_codes, rule_labels = _factorize(terms["rule"])
    sev_codes, sev_labels = _factorize(terms["severity"])
    rows = pd.DataFrame({
        "report_id": terms["report_id"],
        "scope": terms["scope"],
        "scope_kind": terms["scope_kind"],
        "table_name": terms["table_name"],
        "severity": pd.Categorical.from_codes(sev_codes, categories=sev_labels),
        "residual": residual,
        "rule_severity": _combined_key([terms["rule"], terms["severity"]], ":",
                                       [(rule_codes, rule_labels), (sev_codes, sev_labels)]),
    })
    if numeric_ok:
        rows["residual_error"] = residual.to_numpy() - (terms["lhs"].to_numpy() - terms["rhs"].to_numpy())
    else:
        rows["residual_error"] = np.zeros(len(terms))  # the dtype expectations fail the run instead
    frames["terms_rows"] = rows

    if not numeric_ok:
        for r in TERM_RULES:
            skipped[f"rule.{r.name}"] = "lhs/rhs/residual are not float64"
        return Batches(frames, skipped)
    values = residual.to_numpy()
    keys = [_level(terms["report_id"]), _level(terms["scope"])] if labelled else None
    code_of = {label: code for code, label in enumerate(rule_labels)}
    for r in TERM_RULES:
        code = code_of.get(r.name)
        pos = np.flatnonzero(rule_codes == code) if code is not None else np.empty(0, dtype=np.int64)
        frames[f"rule.{r.name}"] = pd.DataFrame({"residual": values[pos]}, index=_row_index(pos, keys))
    return Batches(frames, skipped)

def cells_batches(cells: pd.DataFrame, labelled: bool = True) -> Batches:
    """``cells_structure``, ``cells_rows`` and ``cell_values`` (helper columns of the value rules)."""
    frames: dict[str, pd.DataFrame] = {"cells_structure": cells.iloc[:0]}
    missing = [c for c in CELLS_COLUMNS if c not in cells.columns]
    if missing:
        why = f"stg_cells lacks columns {missing}"
        return Batches(frames, {"cells_rows": why, "cell_values": why})
    if cells["value"].dtype != "float64":
        frames["cells_rows"] = pd.DataFrame({"report_id": cells["report_id"]})
        return Batches(frames, {"cell_values": "stg_cells.value is not float64"})
    v = cells["value"].to_numpy(dtype="float64")
    col = cells["col_key"]
    signed = col.isin(sorted(SIGNED_FIELDS)).to_numpy(dtype=bool)
    amount = col.isin(sorted(AMOUNT_FIELDS)).to_numpy(dtype=bool)
    nonneg = v.copy()
    nonneg[signed] = np.nan
    with np.errstate(invalid="ignore"):
        frac = v - np.floor(v)
    frac[np.isinf(v)] = np.inf  # inf - floor(inf) is NaN, which GE would skip
    frac[amount] = np.nan
    cell_key = _combined_key([cells["table_name"], cells["row_key"], col], ".")
    keys = [_level(cells["report_id"]),
            (_index_codes(np.asarray(cell_key.codes), len(cell_key.categories)),
             pd.Index(cell_key.categories, dtype="str"))] if labelled else None
    index = _row_index(np.arange(len(cells)), keys)
    # narrow batches: GE copies every column of a batch when it filters it for a metric
    frames["cells_rows"] = pd.DataFrame({"report_id": cells["report_id"]})
    frames["cell_values"] = pd.DataFrame({
        "value_nonneg": nonneg,
        "frac": frac,
        "cell_key": cell_key,
    }, index=index)
    return Batches(frames, {})

def positions(result: dict[str, Any]) -> np.ndarray:
    """The row positions (in the input frame) of the rows GE returned as unexpected.

    Each ``unexpected_index_list`` entry is a batch index entry: a tuple
    ``(labels..., position)`` (see :func:`_row_index`) or a bare position.
    """
    idx = result.get("unexpected_index_list") or []
    if idx and isinstance(idx[0], dict):  # a named index was configured somewhere
        raise RuntimeError("expected plain index values in unexpected_index_list")
    pos = np.fromiter((e[-1] if isinstance(e, (tuple, list)) else e for e in idx), dtype=np.int64,
                      count=len(idx))
    count = int(result.get("unexpected_count") or 0)
    if len(pos) != count:
        raise RuntimeError(f"GE returned {len(pos)} unexpected rows for an unexpected_count of {count}")
    return pos
