"""The data-quality gate: Great Expectations over the identity terms and the cells.

:func:`run_gate` validates the frames of ``int_identity_terms`` and
``stg_cells`` (pandas frames, from DuckDB ``.df()``; STACK_NOTES P13) against
the suites of :mod:`expectations.suites` and returns a :class:`GateResult`:

* ``issues``: the ``quality_issues`` frame, one row per unexpected row that
  Great Expectations itself returned.  Each suite runs once through a stored
  ``ValidationDefinition`` with a ``SUMMARY`` result (verdicts, counts, Data
  Docs); only an expectation that failed on report-level data is asked again,
  ``COMPLETE`` and unstored, for its full ``unexpected_index_list``.  Each
  batch is indexed by the row position in the input frame (with Data Docs:
  ``(report_id, scope, position)``, so the docs show which report broke
  what), so GE's index entries point straight back at the term or the cell.
  Nothing here re-judges a value: the gate only computes helper columns (e.g.
  ``value - floor(value)``) and joins GE's answer back to the input rows.
* ``passed`` / ``failures``: the run-level verdict (schema drift, an unknown
  rule, parse failures or decertified reports above the max share).
* ``summaries``: one :class:`ExpectationOutcome` per expectation, for Dagster.
* ``docs_index``: the Data Docs site built into ``docs_dir``.

Great Expectations is imported inside the functions (STACK_NOTES P15).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np
import pandas as pd

from ingestion.templates import AMOUNT_FIELDS, SIGNED_FIELDS

from .rules import BY_NAME
from .suites import (
    CELLS_COLUMNS,
    CELLS_OPTIONAL,
    ISSUE_COLUMNS,
    MAX_SHARE_PARAMETER,
    SUITE_VERSION,
    TERM_RULES,
    TERMS_COLUMNS,
    TERMS_NUMERIC,
    ExpectationSpec,
    SuiteSpec,
    build_ge_suite,
    suite_specs,
    suites_fingerprint,
)

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

#: Column names of dbt's stg_cells -> the names the gate uses (the Parquet ``cells`` table's).
CELLS_RENAMES = {"raw_token": "raw", "source_position": "position"}
#: Environment variable overriding the max share of bad files/reports in a run.
ENV_MAX_BAD_SHARE = "OGI_MAX_BAD_SHARE"
DEFAULT_MAX_BAD_SHARE = 0.5
#: Name of the Data Docs site the gate writes.
DOCS_SITE_NAME = "ogi_quality"
#: Result format of the stored validations (verdicts, Data Docs): counts and the first
#: unexpected rows.  Storing a COMPLETE result costs GE a deepcopy + JSON pass per
#: unexpected row (180k failing rows: 40 s), so COMPLETE is asked only where needed.
SUMMARY_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    # the pandas "query" is a string listing every unexpected index: useless and large
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 20,
}
#: With Data Docs, a failing rule suite with at most this many unexpected rows is re-run
#: COMPLETE *and stored* (the docs then list every unexpected row); above it the
#: docs keep the SUMMARY and the full list is fetched unstored.
DOCS_COMPLETE_LIMIT = 20_000
#: Result format of the second pass on a failing report-level expectation: every
#: unexpected row's batch index (not stored).
COMPLETE_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 20,
}


#: Frames longer than this get positional batch indices in Data Docs instead of readable ones.
LABELLED_ROWS_MAX = 1_000_000


def judgement_fingerprint() -> str:
    """What a verdict depends on besides the data: when it changes, every report is judged again.

    The suites (:func:`suites_fingerprint`), the template keys and field sets the cell
    rules use, the Great Expectations version, and the code of the gate itself
    (this module and :mod:`expectations.suites`), so that a fix to how the gate
    prepares its batches re-judges the warehouse instead of keeping old verdicts.
    """
    import hashlib
    from importlib.metadata import version

    from . import suites
    from .suites import known_cell_keys

    digest = hashlib.sha256()
    for part in (suites_fingerprint(), SUITE_VERSION, version("great_expectations"),
                 *sorted(known_cell_keys()), "|", *sorted(SIGNED_FIELDS), "|", *sorted(AMOUNT_FIELDS)):
        digest.update(str(part).encode("utf-8") + b"\0")
    for module_file in (__file__, suites.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


def max_bad_share_from_env(default: float = DEFAULT_MAX_BAD_SHARE) -> float:
    """The max share of bad files/reports: env ``OGI_MAX_BAD_SHARE`` if set and valid, else ``default``."""
    raw = os.environ.get(ENV_MAX_BAD_SHARE, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", ENV_MAX_BAD_SHARE, raw, default)
        return default
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        log.warning("%s=%r is outside [0, 1]; using %s", ENV_MAX_BAD_SHARE, raw, default)
        return default
    return value


@dataclass
class ExpectationOutcome:
    """What one expectation said, in the gate's terms (for Dagster and logs)."""

    suite: str
    expectation_type: str
    column: str | None
    rule: str
    level: str  # "run" | "report"
    severity: str  # "blocking" | "warning"
    check_name: str
    success: bool
    evaluated: bool = True  # False when skipped (its batch could not be built)
    element_count: int = 0
    unexpected_count: int = 0
    unexpected_percent: float | None = None
    reports_affected: int = 0
    observed: Any = None
    partial_unexpected: list[Any] = field(default_factory=list)
    exception: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return jsonable(asdict(self))


@dataclass
class GateResult:
    """The gate's verdict on one run."""

    passed: bool
    failures: list[str]
    issues: pd.DataFrame
    summaries: list[ExpectationOutcome]
    decertified: list[str]
    stats: dict[str, Any]
    checked_at: pd.Timestamp
    docs_index: Path | None = None
    suite_version: str = SUITE_VERSION
    suite_fingerprint: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def issues_for(self, check_name: str) -> pd.DataFrame:
        """The issues a Dagster check reports (a rule name; the gate check has none)."""
        return self.issues[self.issues["rule"] == check_name]

    def outcomes_for(self, check_name: str) -> list[ExpectationOutcome]:
        """The expectation outcomes that feed one Dagster check."""
        return [s for s in self.summaries if s.check_name == check_name]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (no issue rows, only their count)."""
        return jsonable({
            "passed": self.passed,
            "failures": self.failures,
            "issue_count": len(self.issues),
            "decertified_count": len(self.decertified),
            "stats": self.stats,
            "checked_at": self.checked_at.isoformat(),
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "suite_version": self.suite_version,
            "suite_fingerprint": self.suite_fingerprint,
            "timings": self.timings,
            "expectations": [s.to_dict() for s in self.summaries],
        })


# --------------------------------------------------------------------------- frames


def empty_issues() -> pd.DataFrame:
    """A ``quality_issues`` frame with no rows and the right dtypes."""
    return pd.DataFrame({
        "report_id": pd.Series([], dtype="str"),
        "rule": pd.Series([], dtype="str"),
        "severity": pd.Series([], dtype="str"),
        "scope_kind": pd.Series([], dtype="str"),
        "scope": pd.Series([], dtype="str"),
        "expected": pd.Series([], dtype="float64"),
        "actual": pd.Series([], dtype="float64"),
        "residual": pd.Series([], dtype="float64"),
        "cells": pd.Series([], dtype="str"),
        "checked_at": pd.Series([], dtype="datetime64[us, UTC]"),
    })[list(ISSUE_COLUMNS)]


def _empty_frame(columns: Iterable[str], numeric: Iterable[str]) -> pd.DataFrame:
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


def _normalise(frame: pd.DataFrame | None, columns: Iterable[str], numeric: Iterable[str]) -> pd.DataFrame:
    """Coerce numeric columns to float64 (P18); a column-less empty frame becomes the empty schema."""
    columns, numeric = tuple(columns), tuple(numeric)
    if frame is None or (len(frame.columns) == 0 and len(frame) == 0):
        return _empty_frame(columns, numeric)
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
class _Batches:
    frames: dict[str, pd.DataFrame]
    skipped: dict[str, str]  # batch -> why it could not be built


def _terms_batches(terms: pd.DataFrame, labelled: bool = True) -> _Batches:
    frames: dict[str, pd.DataFrame] = {"terms_structure": terms.iloc[:0]}
    skipped: dict[str, str] = {}
    missing = [c for c in TERMS_COLUMNS if c not in terms.columns]
    if missing:
        why = f"int_identity_terms lacks columns {missing}"
        skipped["terms_rows"] = why
        for r in TERM_RULES:
            skipped[f"rule.{r.name}"] = why
        return _Batches(frames, skipped)

    residual = terms["residual"]
    numeric_ok = all(terms[c].dtype == "float64" for c in TERMS_NUMERIC)
    rule_codes, rule_labels = _factorize(terms["rule"])
    sev_codes, sev_labels = _factorize(terms["severity"])
    rows = pd.DataFrame({
        "report_id": terms["report_id"],
        "scope": terms["scope"],
        "scope_kind": terms["scope_kind"],
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
        return _Batches(frames, skipped)
    values = residual.to_numpy()
    keys = [_level(terms["report_id"]), _level(terms["scope"])] if labelled else None
    code_of = {label: code for code, label in enumerate(rule_labels)}
    for r in TERM_RULES:
        code = code_of.get(r.name)
        pos = np.flatnonzero(rule_codes == code) if code is not None else np.empty(0, dtype=np.int64)
        frames[f"rule.{r.name}"] = pd.DataFrame({"residual": values[pos]}, index=_row_index(pos, keys))
    return _Batches(frames, skipped)


def _cells_batches(cells: pd.DataFrame, labelled: bool = True) -> _Batches:
    frames: dict[str, pd.DataFrame] = {"cells_structure": cells.iloc[:0]}
    missing = [c for c in CELLS_COLUMNS if c not in cells.columns]
    if missing:
        why = f"stg_cells lacks columns {missing}"
        return _Batches(frames, {"cells_rows": why, "cell_values": why})
    if cells["value"].dtype != "float64":
        frames["cells_rows"] = pd.DataFrame({"report_id": cells["report_id"]})
        return _Batches(frames, {"cell_values": "stg_cells.value is not float64"})
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
    return _Batches(frames, {})


def issues_arrow_schema() -> "Any":
    """The pyarrow schema of ``quality_issues.parquet`` (dbt source ``quality.quality_issues``)."""
    import pyarrow as pa

    return pa.schema([
        ("report_id", pa.string()), ("rule", pa.string()), ("severity", pa.string()),
        ("scope_kind", pa.string()), ("scope", pa.string()), ("expected", pa.float64()),
        ("actual", pa.float64()), ("residual", pa.float64()), ("cells", pa.string()),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ])


def issues_table(issues: pd.DataFrame) -> "Any":
    """``quality_issues`` as a pyarrow Table of :func:`issues_arrow_schema` (0 rows keep the schema).

    ``checked_at`` is UTC; ``table.cast`` to a schema with a naive ``timestamp("us")``
    keeps the UTC wall time.
    """
    import pyarrow as pa

    frame = issues[list(ISSUE_COLUMNS)] if len(issues.columns) else empty_issues()
    return pa.Table.from_pandas(frame, schema=issues_arrow_schema(), preserve_index=False)


def write_issues(issues: pd.DataFrame, path: Path) -> Path:
    """Write ``quality_issues`` to Parquet atomically (temp file + rename); 0 rows keep the schema."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = issues_table(issues)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# --------------------------------------------------------------------------- GE


def make_context(docs_dir: Path | None = None) -> "AbstractDataContext":
    """An ephemeral GE context, progress bars off (P16), with our Data Docs site if ``docs_dir``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    for site in list(ctx.list_data_docs_sites()):
        ctx.delete_data_docs_site(site)  # the default site points at a temp dir
    if docs_dir is not None:
        ctx.add_data_docs_site(DOCS_SITE_NAME, {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(docs_dir).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return ctx


@contextlib.contextmanager
def batch_fingerprints(enabled: bool) -> Iterator[None]:
    """Let GE fingerprint pandas batches, or not, for the duration of the block.

    GE 1.24 md5-hashes every pandas batch under 1 GB
    (``pandas_execution_engine.HASH_THRESHOLD``) only to record a
    ``pandas_data_fingerprint`` batch marker.  Validation does not use it; on
    6.75M terms it was ~60% of the gate's time.  With ``enabled=False`` the
    threshold is set to 0 inside the block and restored after it.
    """
    if enabled:
        yield
        return
    from great_expectations.execution_engine import pandas_execution_engine as engine

    missing = object()
    old = getattr(engine, "HASH_THRESHOLD", missing)
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        if old is missing:
            delattr(engine, "HASH_THRESHOLD")
        else:
            engine.HASH_THRESHOLD = old


def _exception_text(info: Any) -> str | None:
    """The message of a raised exception in a GE ``exception_info`` (flat or keyed by metric)."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return (info.get("exception_message") or "exception") if info.get("raised_exception") else None
    if isinstance(info, dict):
        msgs = [_exception_text(v) for v in info.values()]
        msgs = [m for m in msgs if m]
        return "; ".join(msgs) if msgs else None
    return None


@dataclass
class _Validated:
    result: Any  # ExpectationSuiteValidationResult (SUMMARY, stored)
    suite: Any  # the GE ExpectationSuite
    batch_definition: Any
    definition: Any  # the ValidationDefinition


def _validate(ctx: Any, datasource: Any, spec: SuiteSpec, frame: pd.DataFrame,
              params: dict[str, Any], run_id: Any, earlier: _Validated | None = None) -> _Validated:
    """Run one suite on one frame through a ValidationDefinition (stored: Data Docs see it).

    The suite, its data asset and its ValidationDefinition are added to the context
    once; ``earlier`` (the same suite on an earlier part) reuses them.
    """
    import great_expectations as gx

    if earlier is not None:
        suite, batch_def, vd = earlier.suite, earlier.batch_definition, earlier.definition
    else:
        suite = ctx.suites.add(build_ge_suite(spec))
        asset = datasource.add_dataframe_asset(spec.batch)
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=spec.name, data=batch_def, suite=suite))
    result = vd.run(batch_parameters={"dataframe": frame}, expectation_parameters=params,
                    result_format=SUMMARY_FORMAT, run_id=run_id)
    return _Validated(result, suite, batch_def, vd)


def _complete_results(validated: _Validated, rules: list[str], frame: pd.DataFrame,
                      params: dict[str, Any], *, store: bool, run_id: Any) -> dict[str, dict[str, Any]]:
    """Second pass, COMPLETE, of the expectations of ``rules``: every unexpected row, by rule.

    Unstored by default (``batch.validate``, one expectation at a time).  With
    ``store`` (Data Docs wanted and few unexpected rows) the suite's
    ValidationDefinition runs again with COMPLETE under the same run id,
    replacing the stored SUMMARY result, so the docs list every unexpected row
    with its (report_id, scope, position) index.
    """
    out: dict[str, dict[str, Any]] = {}
    if store:
        res_suite = validated.definition.run(batch_parameters={"dataframe": frame},
                                             expectation_parameters=params, result_format=COMPLETE_FORMAT,
                                             run_id=run_id)
        results = {(r.expectation_config.meta or {}).get("rule"): r for r in res_suite.results}
    else:
        batch = validated.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        results = {}
        for e in validated.suite.expectations:
            rule = (e.meta or {}).get("rule")
            if rule in rules:
                results[rule] = batch.validate(e, result_format=COMPLETE_FORMAT,
                                               expectation_parameters=params or None)
    for rule in rules:
        res = results[rule]
        err = _exception_text(res.exception_info)
        if err:
            raise RuntimeError(f"the COMPLETE pass raised: {err}")
        out[rule] = dict(res.result or {})
    return out


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars, NaN and timestamps made JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


# --------------------------------------------------------------------------- issues


def _term_issues(terms: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    t = terms.take(positions)
    return pd.DataFrame({
        "report_id": t["report_id"].to_numpy(),
        "rule": t["rule"].to_numpy(),
        "severity": t["severity"].to_numpy(),
        "scope_kind": t["scope_kind"].to_numpy(),
        "scope": t["scope"].to_numpy(),
        "expected": t["rhs"].to_numpy(dtype="float64"),
        "actual": t["lhs"].to_numpy(dtype="float64"),
        "residual": t["residual"].to_numpy(dtype="float64"),
        "cells": t["cells"].fillna("").astype("str").to_numpy(),
    })


def _cell_issues(cells: pd.DataFrame, batch: pd.DataFrame, positions: np.ndarray, rule: str) -> pd.DataFrame:
    c = cells.take(positions)
    value = c["value"].to_numpy(dtype="float64")
    scope = np.asarray(batch["cell_key"].iloc[positions].astype("str"), dtype=object)
    if rule == "value_non_negative":
        expected = np.zeros(len(c))
        residual = value  # distance below the bound 0
    elif rule == "value_integer":
        expected = np.floor(value)
        residual = batch["frac"].to_numpy()[positions]  # what GE judged
    else:  # key_known
        expected = np.full(len(c), np.nan)
        residual = np.full(len(c), np.nan)
    raw = c["raw"].astype("str").to_numpy() if "raw" in c.columns else np.full(len(c), "")
    pos = c["position"].astype("str").to_numpy() if "position" in c.columns else np.full(len(c), "")
    described = [f"{s} raw={r!r} at {p}" if p else f"{s} raw={r!r}" for s, r, p in zip(scope, raw, pos)]
    return pd.DataFrame({
        "report_id": c["report_id"].to_numpy(),
        "rule": rule,
        "severity": BY_NAME[rule].severity,
        "scope_kind": "cell",
        "scope": scope,
        "expected": expected,
        "actual": value,
        "residual": residual,
        "cells": described,
    })


def _positions(result: dict[str, Any]) -> np.ndarray:
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


def _run_reason(exp: ExpectationSpec, outcome: ExpectationOutcome) -> str:
    if outcome.exception:
        return f"{exp.rule}: expectation {exp.type} raised: {outcome.exception}"
    if not outcome.evaluated:
        return f"{exp.rule}: not evaluated ({outcome.observed})"
    if exp.type.startswith("ExpectTable") or exp.type == "ExpectColumnValuesToBeOfType":
        return f"{exp.rule}: {exp.description} (observed {outcome.observed!r})"
    sample = ", ".join(repr(v) for v in outcome.partial_unexpected[:5])
    return (f"{exp.rule}: {exp.description}: {outcome.unexpected_count} of {outcome.element_count} "
            f"rows unexpected (e.g. {sample})")


# --------------------------------------------------------------------------- the gate


def run_gate(
    terms: pd.DataFrame | None,
    cells: pd.DataFrame | None,
    **kwargs: Any,
) -> GateResult:
    """Validate one frame of terms and one of cells (see :func:`run_gate_parts` for the arguments)."""
    return run_gate_parts([(terms, cells)], **kwargs)


def run_gate_parts(
    parts: Iterable[tuple[pd.DataFrame | None, pd.DataFrame | None]],
    *,
    docs_dir: Path | None = None,
    reports: pd.DataFrame | None = None,
    max_decertified_share: float | None = None,
    parse_error_count: int = 0,
    file_count: int = 0,
    run_name: str | None = None,
    fingerprint_batches: bool = False,
    keep_docs_history: bool = False,
    carried_issues: pd.DataFrame | None = None,
) -> GateResult:
    """Validate a run's terms and cells with Great Expectations, part by part, and judge the run.

    Each part is a pair of frames, ``(terms, cells)``, usually the terms and cells of
    one slice of the reports: a part is validated and reduced to its issue rows
    before the next is loaded (``parts`` may be a generator), so the gate's memory is
    that of one part however large the warehouse.  All parts share one GE context:
    the suites are built once, every part runs the same ValidationDefinitions (part
    k > 1 under the GE run name ``"<run_name> part k"``, so Data Docs keep each
    part's page), and the run-level suite judges the shares of the whole run once,
    at the end.

    Args:
        parts: ``(terms, cells)`` pairs.  terms: frame of the dbt model
            ``int_identity_terms`` (suites.TERMS_COLUMNS); cells: frame of
            ``stg_cells`` (suites.CELLS_COLUMNS, optionally raw_token/raw and
            source_position/position, which feed the issue's ``cells`` text).
        docs_dir: if set, build the GE Data Docs site there (e.g. ``$OGI_HOME/quality``).
        reports: frame of the run's reports (``report_id`` at least); the run's
            denominator.  Without it, the reports seen in the parts.
        max_decertified_share: max share of bad files/reports before the run
            fails; ``None`` reads env ``OGI_MAX_BAD_SHARE`` (default 0.5).
            The gate trips when a share is strictly above it.
        parse_error_count: files of the run that failed to parse.
        file_count: files in the run (default: parsed reports + parse errors).
        run_name: GE run name (Data Docs group validations by it), e.g. the Dagster run id.
        fingerprint_batches: keep GE's md5 fingerprint of each batch (off: see
            :func:`batch_fingerprints`; it only feeds a batch marker).
        keep_docs_history: keep earlier runs' validation pages under
            ``docs_dir/validations`` (the index lists only this run either way:
            the context is ephemeral); by default they are removed.
        carried_issues: issues of reports judged by an earlier run and unchanged since
            (an incremental run judges only what changed): they are part of the
            result's issues, its quarantines and its shares, but not validated again.

    Returns:
        A :class:`GateResult`.  Empty frames (0 reports) pass.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    checked_at = pd.Timestamp.now(tz="UTC").floor("us")
    max_share = max_bad_share_from_env() if max_decertified_share is None else float(max_decertified_share)

    from great_expectations.core.run_identifier import RunIdentifier

    ctx = make_context(docs_dir)
    datasource = ctx.data_sources.add_pandas("ogi")
    timings["context_s"] = time.perf_counter() - t0

    specs = suite_specs()
    validated_suites: dict[str, _Validated] = {}
    merged: dict[tuple[str, str], ExpectationOutcome] = {}  # (suite, rule) -> outcome over all parts
    failures: list[str] = []
    issue_parts: list[pd.DataFrame] = []
    seen_ids: list[pd.Index] = []
    part_count = 0

    def judge(spec: SuiteSpec, frame: pd.DataFrame | None, params: dict[str, Any], skipped: dict[str, str],
              terms: pd.DataFrame, cells: pd.DataFrame, run_id: Any) -> None:
        if frame is None:
            why = skipped.get(spec.batch, "batch not built")
            for exp in spec.expectations:
                out = ExpectationOutcome(spec.name, exp.type, exp.kwargs.get("column"), exp.rule, exp.level,
                                         exp.severity, exp.check_name, success=False, evaluated=False,
                                         observed=why)
                _merge_outcome(merged, out)
                if exp.level == "run":
                    failures.append(_run_reason(exp, out))
            return
        ts = time.perf_counter()
        try:
            validated = _validate(ctx, datasource, spec, frame, params, run_id, validated_suites.get(spec.name))
            validated_suites[spec.name] = validated
        except Exception as exc:  # noqa: BLE001  a suite that cannot run fails the run, loudly
            log.exception("quality gate: suite %s could not run", spec.name)
            for exp in spec.expectations:
                out = ExpectationOutcome(spec.name, exp.type, exp.kwargs.get("column"), exp.rule, exp.level,
                                         exp.severity, exp.check_name, success=False, evaluated=False,
                                         observed=f"suite raised {type(exc).__name__}",
                                         exception=f"{type(exc).__name__}: {exc}")
                _merge_outcome(merged, out)
                failures.append(_run_reason(exp, out))
            return
        timings[f"suite:{spec.name}"] = timings.get(f"suite:{spec.name}", 0.0) + time.perf_counter() - ts
        by_rule = {exp.rule: exp for exp in spec.expectations}  # rules are unique within a suite
        outcomes: list[tuple[ExpectationSpec, ExpectationOutcome]] = []
        for res in validated.result.results:
            exp = by_rule[(res.expectation_config.meta or {})["rule"]]
            result = dict(res.result or {})
            err = _exception_text(res.exception_info)
            outcomes.append((exp, ExpectationOutcome(
                suite=spec.name, expectation_type=exp.type, column=exp.kwargs.get("column"), rule=exp.rule,
                level=exp.level, severity=exp.severity, check_name=exp.check_name,
                success=bool(res.success) and err is None,
                element_count=int(result.get("element_count") or 0),
                unexpected_count=int(result.get("unexpected_count") or 0),
                unexpected_percent=result.get("unexpected_percent"),
                observed=result.get("observed_value"),
                partial_unexpected=list(result.get("partial_unexpected_list") or [])[:20],
                exception=err,
            )))

        # report-level failures: fetch every unexpected row from GE (COMPLETE pass)
        wanted = [(e, o) for e, o in outcomes if e.level == "report" and not o.success and o.exception is None]
        full: dict[str, dict[str, Any]] = {}
        if wanted:
            tc = time.perf_counter()
            store = docs_dir is not None and sum(o.unexpected_count for _, o in wanted) <= DOCS_COMPLETE_LIMIT
            try:
                full = _complete_results(validated, [e.rule for e, _ in wanted], frame, params,
                                         store=store, run_id=run_id)
            except Exception as exc:  # noqa: BLE001  no issue rows: the run cannot pass
                log.exception("quality gate: unexpected rows of suite %s", spec.name)
                for _, o in wanted:
                    o.exception = f"{type(exc).__name__}: {exc}"
            timings[f"complete:{spec.name}"] = (timings.get(f"complete:{spec.name}", 0.0)
                                                + time.perf_counter() - tc)

        for exp, out in outcomes:
            if exp.level == "report" and exp.rule in full:
                try:
                    got = full[exp.rule]
                    if int(got.get("unexpected_count") or 0) != out.unexpected_count:
                        raise RuntimeError(f"GE counted {out.unexpected_count} then "
                                           f"{got.get('unexpected_count')} unexpected rows")
                    pos = _positions(got)
                    part = (_term_issues(terms, pos) if BY_NAME[exp.rule].source == "terms"
                            else _cell_issues(cells, frame, pos, exp.rule))
                except Exception as exc:  # noqa: BLE001  no issue rows: the run cannot pass
                    log.exception("quality gate: unexpected rows of %s", exp.rule)
                    out.exception = f"{type(exc).__name__}: {exc}"
                    failures.append(_run_reason(exp, out))
                else:
                    out.reports_affected = int(part["report_id"].nunique())
                    issue_parts.append(part)
            elif not out.success:
                failures.append(_run_reason(exp, out))
            _merge_outcome(merged, out)

    with batch_fingerprints(fingerprint_batches):
        for terms, cells in _at_least_one(parts):
            tp = time.perf_counter()
            part_count += 1
            terms = _normalise(terms, TERMS_COLUMNS, TERMS_NUMERIC)
            cells = _normalise(cells, CELLS_COLUMNS + CELLS_OPTIONAL, ("value",))
            # stg_cells names them raw_token / source_position; the Parquet table raw / position
            cells = cells.rename(columns={k: v for k, v in CELLS_RENAMES.items()
                                          if k in cells.columns and v not in cells.columns})
            for frame in (terms, cells):
                if "report_id" in frame.columns:
                    # unique first: a categorical column of 10M rows as strings would take gigabytes
                    ids = np.asarray(frame["report_id"].dropna().unique(), dtype=object)
                    seen_ids.append(pd.Index(ids.astype(str), dtype="str"))
            # readable batch indices (report_id, scope, position) only when someone reads Data Docs
            # (not for national-scale frames: a readable index of 30M cells costs gigabytes)
            tb = _terms_batches(terms, labelled=docs_dir is not None and len(terms) <= LABELLED_ROWS_MAX)
            cb = _cells_batches(cells, labelled=docs_dir is not None and len(cells) <= LABELLED_ROWS_MAX)
            frames = {**tb.frames, **cb.frames}
            skipped = {**tb.skipped, **cb.skipped}
            timings["prepare_s"] = timings.get("prepare_s", 0.0) + time.perf_counter() - tp
            name = run_name if part_count == 1 or run_name is None else f"{run_name} part {part_count}"
            run_id = RunIdentifier(run_name=name, run_time=checked_at.to_pydatetime())
            for spec in specs:
                if spec.batch != "run":
                    judge(spec, frames.get(spec.batch), {}, skipped, terms, cells, run_id)
            del terms, cells, tb, cb, frames  # the next part's frames take their place

        judged = _assemble_issues(issue_parts, checked_at)
        issues = _with_carried(judged, carried_issues)

        # the run-level shares, judged by GE on a one-row frame
        if reports is not None and "report_id" in reports.columns:
            universe = pd.Index(reports["report_id"].dropna().astype("str").unique())
        else:
            universe = _union(seen_ids + ([pd.Index(carried_issues["report_id"].astype("str").unique())]
                                          if carried_issues is not None and len(carried_issues) else []))
        stats = _shares(universe, issues, parse_error_count, file_count)
        stats["max_bad_share"] = max_share
        stats["parts"] = part_count
        stats["judged_report_count"] = len(_union(seen_ids))
        stats["carried_issue_count"] = len(issues) - len(judged)
        run_frame = pd.DataFrame({k: [float(stats[k])] for k in ("parse_failure_share", "decertified_share",
                                                                 "bad_share")})
        run_id = RunIdentifier(run_name=run_name, run_time=checked_at.to_pydatetime())
        for spec in specs:
            if spec.batch == "run":
                judge(spec, run_frame, {MAX_SHARE_PARAMETER: max_share}, {}, _empty_frame((), ()),
                      _empty_frame((), ()), run_id)

    docs_index: Path | None = None
    if docs_dir is not None:
        td = time.perf_counter()
        Path(docs_dir).mkdir(parents=True, exist_ok=True)
        old_pages = Path(docs_dir) / "validations"
        if not keep_docs_history and old_pages.is_dir():
            shutil.rmtree(old_pages)
        ctx.build_data_docs(site_names=[DOCS_SITE_NAME])
        docs_index = Path(docs_dir).resolve() / "index.html"
        timings["docs_s"] = time.perf_counter() - td
    timings["total_s"] = time.perf_counter() - t0

    decertified = sorted(issues.loc[issues["severity"] == "blocking", "report_id"].astype("str").unique().tolist())
    result = GateResult(
        passed=not failures,
        failures=list(dict.fromkeys(failures)),  # a schema failure repeats in every part: say it once
        issues=issues,
        summaries=list(merged.values()),
        decertified=decertified,
        stats=stats,
        checked_at=checked_at,
        docs_index=docs_index,
        suite_fingerprint=suites_fingerprint(),
        timings=timings,
    )
    log.info("quality gate %s: %d issues, %d decertified of %d reports (%d judged in %d parts), %.2fs",
             "passed" if result.passed else "FAILED", len(issues), len(decertified),
             stats["report_count"], stats["judged_report_count"], part_count, timings["total_s"])
    for reason in result.failures:
        log.warning("quality gate: %s", reason)
    return result


def _at_least_one(parts: Iterable[tuple[pd.DataFrame | None, pd.DataFrame | None]]
                  ) -> Iterator[tuple[pd.DataFrame | None, pd.DataFrame | None]]:
    """``parts``, or one empty part when there are none (the structure suites still run and report)."""
    empty = True
    for part in parts:
        empty = False
        yield part
    if empty:
        yield None, None


def _union(indexes: list[pd.Index]) -> pd.Index:
    if not indexes:
        return pd.Index([], dtype="str")
    return indexes[0].append(indexes[1:]).unique()


def _merge_outcome(merged: dict[tuple[str, str], ExpectationOutcome], out: ExpectationOutcome) -> None:
    """Fold one part's outcome of an expectation into the run's (counts add up, any failure fails)."""
    key = (out.suite, out.rule)
    have = merged.get(key)
    if have is None:
        merged[key] = out
        return
    have.success = have.success and out.success
    have.evaluated = have.evaluated and out.evaluated
    have.element_count += out.element_count
    have.unexpected_count += out.unexpected_count
    have.unexpected_percent = (100.0 * have.unexpected_count / have.element_count
                               if have.element_count else have.unexpected_percent)
    have.reports_affected += out.reports_affected  # parts hold disjoint reports
    if out.observed is not None and (have.observed is None or not out.success):
        have.observed = out.observed
    have.partial_unexpected = (have.partial_unexpected + out.partial_unexpected)[:20]
    have.exception = have.exception or out.exception


def _with_carried(judged: pd.DataFrame, carried: pd.DataFrame | None) -> pd.DataFrame:
    """This run's issues plus those carried from earlier runs (their own checked_at kept)."""
    if carried is None or carried.empty:
        return judged
    carried = carried[list(ISSUE_COLUMNS)].copy()
    checked = pd.to_datetime(carried["checked_at"])
    # quality_issues.parquet stores UTC without a zone
    carried["checked_at"] = checked.dt.tz_localize("UTC") if checked.dt.tz is None else checked.dt.tz_convert("UTC")
    carried = carried.astype(judged.dtypes.to_dict())
    both = pd.concat([judged, carried], ignore_index=True) if len(judged) else carried
    return both.sort_values(["report_id", "rule", "scope"], kind="stable").reset_index(drop=True)


def _assemble_issues(parts: list[pd.DataFrame], checked_at: pd.Timestamp) -> pd.DataFrame:
    if not parts:
        return empty_issues()
    issues = pd.concat(parts, ignore_index=True)
    for c in ("report_id", "rule", "severity", "scope_kind", "scope", "cells"):
        issues[c] = issues[c].astype("str")
    for c in ("expected", "actual", "residual"):
        issues[c] = issues[c].astype("float64")
    issues["checked_at"] = pd.Series(checked_at, index=issues.index).astype("datetime64[us, UTC]")
    issues = issues[list(ISSUE_COLUMNS)]
    return issues.sort_values(["report_id", "rule", "scope"], kind="stable").reset_index(drop=True)


def _shares(universe: pd.Index, issues: pd.DataFrame, parse_error_count: int, file_count: int
            ) -> dict[str, Any]:
    """Counts and shares of the run over the reports of ``universe`` (the run-level suite judges the shares)."""
    n_reports = len(universe)
    blocking = issues.loc[issues["severity"] == "blocking", "report_id"].astype("str")
    n_decert = int(blocking[blocking.isin(universe)].nunique())
    parse_error_count = max(int(parse_error_count), 0)
    n_files = max(int(file_count), n_reports + parse_error_count)
    return {
        "report_count": n_reports,
        "decertified_count": n_decert,
        "parse_error_count": parse_error_count,
        "file_count": n_files,
        "issue_count": int(len(issues)),
        "warning_issue_count": int((issues["severity"] == "warning").sum()),
        "decertified_share": n_decert / n_reports if n_reports else 0.0,
        "parse_failure_share": parse_error_count / n_files if n_files else 0.0,
        "bad_share": (parse_error_count + n_decert) / n_files if n_files else 0.0,
    }
