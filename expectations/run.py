"""Running Great Expectations over the gate's batches, part by part: :class:`GateRun`.

:func:`run_gate_parts` validates the frames of ``int_identity_terms`` and the current
cells against the suites of :mod:`expectations.suites` and returns a
:class:`~expectations.results.GateResult`:

* ``issues``: one row per unexpected row that Great Expectations itself returned.  Each
  suite runs once through a stored ``ValidationDefinition`` with a ``SUMMARY`` result
  (verdicts, counts, Data Docs); only an expectation that failed on report-level data is
  asked again, ``COMPLETE`` and unstored, for its full ``unexpected_index_list``, whose
  entries point back at the input rows (:mod:`expectations.batches`).  Nothing here
  re-judges a value.
* ``passed`` / ``failures``: the run-level verdict (schema drift, an unknown rule, parse
  failures or quarantined reports above the max share).
* ``summaries``: one :class:`~expectations.results.ExpectationOutcome` per expectation.
* ``docs_index``: the Data Docs site built into ``docs_dir``.

Great Expectations is imported inside the functions: importing it takes seconds, and the
code location must load quickly.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np
import pandas as pd

from . import issues as issue_rows
from .batches import CELLS_RENAMES, LABELLED_ROWS_MAX, cells_batches, empty_frame, normalise, positions, terms_batches
from .results import ExpectationOutcome, GateResult
from .rules import BY_NAME
from .suites import (
    CELLS_COLUMNS,
    CELLS_OPTIONAL,
    MAX_SHARE_PARAMETER,
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

#: The default max share of bad files or reports in a run (the setting OGI_MAX_BAD_SHARE).
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


def make_context(docs_dir: Path | None = None) -> "AbstractDataContext":
    """An ephemeral GE context with our Data Docs site if ``docs_dir``.

    Progress bars are off: GE would print a bar per metric into the run's logs.
    """
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


class GateRun:
    """One run of the gate: a Great Expectations context, the suites, and what the parts said.

    The suites, their data assets and validation definitions are added to the context once
    and run on every part (part k > 1 under the GE run name ``"<run_name> part k"``, so that
    Data Docs keep each part's page); :meth:`finish` judges the run as a whole.
    """

    def __init__(self, *, docs_dir: Path | None, run_name: str | None, max_bad_share: float) -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        started = time.perf_counter()
        self._run_identifier = RunIdentifier
        self.docs_dir = docs_dir
        self.run_name = run_name
        self.max_bad_share = float(max_bad_share)
        self.checked_at = pd.Timestamp.now(tz="UTC").floor("us")
        self.context = make_context(docs_dir)
        self.datasource = self.context.data_sources.add_pandas("ogi")
        self.specs = suite_specs()
        self.timings: dict[str, float] = {"context_s": time.perf_counter() - started}
        self.failures: list[str] = []
        self.parts = 0
        self._started = started
        self._validated: dict[str, _Validated] = {}
        self._outcomes: dict[tuple[str, str], ExpectationOutcome] = {}  # (suite, rule) -> over all parts
        self._issue_parts: list[pd.DataFrame] = []
        self._seen_ids: list[pd.Index] = []

    # ------------------------------------------------------------------ parts

    def validate_part(self, terms: pd.DataFrame | None, cells: pd.DataFrame | None) -> None:
        """Validate one part (the terms and cells of a slice of the reports) against every
        report-level suite, and keep only its issue rows."""
        started = time.perf_counter()
        self.parts += 1
        terms = normalise(terms, TERMS_COLUMNS, TERMS_NUMERIC)
        cells = normalise(cells, CELLS_COLUMNS + CELLS_OPTIONAL, ("value",))
        # the staging cells call them raw_token / source_position; the Parquet table raw / position
        cells = cells.rename(columns={k: v for k, v in CELLS_RENAMES.items()
                                      if k in cells.columns and v not in cells.columns})
        for frame in (terms, cells):
            if "report_id" in frame.columns:
                # unique first: a categorical column of 10M rows as strings would take gigabytes
                ids = np.asarray(frame["report_id"].dropna().unique(), dtype=object)
                self._seen_ids.append(pd.Index(ids.astype(str), dtype="str"))
        # readable batch indices (report_id, scope, position) only when someone reads Data Docs
        # (not at a national scale: a readable index of 30M cells costs gigabytes)
        docs = self.docs_dir is not None
        tb = terms_batches(terms, labelled=docs and len(terms) <= LABELLED_ROWS_MAX)
        cb = cells_batches(cells, labelled=docs and len(cells) <= LABELLED_ROWS_MAX)
        frames = {**tb.frames, **cb.frames}
        skipped = {**tb.skipped, **cb.skipped}
        self._add_time("prepare_s", started)
        name = self.run_name if self.parts == 1 or self.run_name is None else f"{self.run_name} part {self.parts}"
        run_id = self._run_identifier(run_name=name, run_time=self.checked_at.to_pydatetime())
        for spec in self.specs:
            if spec.batch != "run":
                self._judge(spec, frames.get(spec.batch), {}, skipped.get(spec.batch), run_id, terms, cells)

    def finish(self, *, reports: pd.DataFrame | None, parse_error_count: int, file_count: int,
               carried_issues: pd.DataFrame | None, keep_docs_history: bool = False) -> GateResult:
        """Every part's issues plus the carried ones, the run-level shares judged, Data Docs built."""
        judged = issue_rows.assemble(self._issue_parts, self.checked_at)
        issues = issue_rows.with_carried(judged, carried_issues)
        if reports is not None and "report_id" in reports.columns:
            universe = pd.Index(reports["report_id"].dropna().astype("str").unique())
        else:
            carried_ids = ([pd.Index(carried_issues["report_id"].astype("str").unique())]
                           if carried_issues is not None and len(carried_issues) else [])
            universe = _union(self._seen_ids + carried_ids)
        stats = _shares(universe, issues, parse_error_count, file_count)
        stats["max_bad_share"] = self.max_bad_share
        stats["parts"] = self.parts
        stats["judged_report_count"] = len(_union(self._seen_ids))
        stats["carried_issue_count"] = len(issues) - len(judged)
        stats["decertified_by_cause"] = issue_rows.quarantined_by_cause(issues)
        run_frame = pd.DataFrame({k: [float(stats[k])] for k in ("parse_failure_share", "decertified_share",
                                                                 "bad_share")})
        run_id = self._run_identifier(run_name=self.run_name, run_time=self.checked_at.to_pydatetime())
        for spec in self.specs:
            if spec.batch == "run":
                self._judge(spec, run_frame, {MAX_SHARE_PARAMETER: self.max_bad_share}, None, run_id,
                            empty_frame((), ()), empty_frame((), ()))
        docs_index = self._build_docs(keep_docs_history)
        self.timings["total_s"] = time.perf_counter() - self._started
        decertified = sorted(issues.loc[issues["severity"] == "blocking", "report_id"].astype("str").unique())
        result = GateResult(
            passed=not self.failures,
            failures=list(dict.fromkeys(self.failures)),  # a schema failure repeats in every part: say it once
            issues=issues,
            summaries=list(self._outcomes.values()),
            decertified=decertified,
            stats=stats,
            checked_at=self.checked_at,
            docs_index=docs_index,
            suite_fingerprint=suites_fingerprint(),
            timings=self.timings,
        )
        log.info("quality gate %s: %d issues, %d decertified of %d reports (%d judged in %d parts), %.2fs",
                 "passed" if result.passed else "FAILED", len(issues), len(decertified),
                 stats["report_count"], stats["judged_report_count"], self.parts, self.timings["total_s"])
        for reason in result.failures:
            log.warning("quality gate: %s", reason)
        return result

    # ------------------------------------------------------------------ one suite

    def _judge(self, spec: SuiteSpec, frame: pd.DataFrame | None, params: dict[str, Any], skipped: str | None,
               run_id: Any, terms: pd.DataFrame, cells: pd.DataFrame) -> None:
        """Run one suite on its batch and fold what it says into the run."""
        if frame is None:
            self._not_evaluated(spec, skipped or "batch not built", None)
            return
        started = time.perf_counter()
        try:
            validated = _validate(self.context, self.datasource, spec, frame, params, run_id,
                                  self._validated.get(spec.name))
        except Exception as exc:  # noqa: BLE001  a suite that cannot run fails the run, loudly
            log.exception("quality gate: suite %s could not run", spec.name)
            self._not_evaluated(spec, f"suite raised {type(exc).__name__}", f"{type(exc).__name__}: {exc}")
            return
        self._validated[spec.name] = validated
        self._add_time(f"suite:{spec.name}", started)
        outcomes = self._outcomes_of(spec, validated)
        # report-level failures: every unexpected row, from GE's COMPLETE pass
        wanted = [(e, o) for e, o in outcomes if e.level == "report" and not o.success and o.exception is None]
        unexpected = self._unexpected_rows(spec, validated, wanted, frame, params, run_id) if wanted else {}
        for exp, out in outcomes:
            if exp.level == "report" and exp.rule in unexpected:
                self._add_issues(exp, out, unexpected[exp.rule], frame, terms, cells)
            elif not out.success:
                self.failures.append(_run_reason(exp, out))
            _merge_outcome(self._outcomes, out)

    def _not_evaluated(self, spec: SuiteSpec, why: str, exception: str | None) -> None:
        """Every expectation of a suite that did not run: not evaluated, and the run cannot pass."""
        for exp in spec.expectations:
            out = ExpectationOutcome(spec.name, exp.type, exp.kwargs.get("column"), exp.rule, exp.level,
                                     exp.severity, exp.check_name, success=False, evaluated=False,
                                     observed=why, exception=exception)
            _merge_outcome(self._outcomes, out)
            if exp.level == "run" or exception is not None:
                self.failures.append(_run_reason(exp, out))

    @staticmethod
    def _outcomes_of(spec: SuiteSpec, validated: _Validated) -> list[tuple[ExpectationSpec, ExpectationOutcome]]:
        by_rule = {exp.rule: exp for exp in spec.expectations}  # rules are unique within a suite
        outcomes = []
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
        return outcomes

    def _unexpected_rows(self, spec: SuiteSpec, validated: _Validated,
                         wanted: list[tuple[ExpectationSpec, ExpectationOutcome]], frame: pd.DataFrame,
                         params: dict[str, Any], run_id: Any) -> dict[str, dict[str, Any]]:
        started = time.perf_counter()
        # with Data Docs and few unexpected rows, the COMPLETE result is stored: the docs list them all
        store = self.docs_dir is not None and sum(o.unexpected_count for _, o in wanted) <= DOCS_COMPLETE_LIMIT
        try:
            return _complete_results(validated, [e.rule for e, _ in wanted], frame, params, store=store,
                                     run_id=run_id)
        except Exception as exc:  # noqa: BLE001  no issue rows: the run cannot pass
            log.exception("quality gate: unexpected rows of suite %s", spec.name)
            for _, out in wanted:
                out.exception = f"{type(exc).__name__}: {exc}"
            return {}
        finally:
            self._add_time(f"complete:{spec.name}", started)

    def _add_issues(self, exp: ExpectationSpec, out: ExpectationOutcome, got: dict[str, Any],
                    frame: pd.DataFrame, terms: pd.DataFrame, cells: pd.DataFrame) -> None:
        """The issue rows of GE's unexpected rows of one expectation."""
        try:
            if int(got.get("unexpected_count") or 0) != out.unexpected_count:
                raise RuntimeError(f"GE counted {out.unexpected_count} then {got.get('unexpected_count')} "
                                   "unexpected rows")
            pos = positions(got)
            part = (issue_rows.term_issues(terms, pos) if BY_NAME[exp.rule].source == "terms"
                    else issue_rows.cell_issues(cells, frame, pos, exp.rule))
        except Exception as exc:  # noqa: BLE001  no issue rows: the run cannot pass
            log.exception("quality gate: unexpected rows of %s", exp.rule)
            out.exception = f"{type(exc).__name__}: {exc}"
            self.failures.append(_run_reason(exp, out))
        else:
            out.reports_affected = int(part["report_id"].nunique())
            self._issue_parts.append(part)

    def _build_docs(self, keep_history: bool) -> Path | None:
        if self.docs_dir is None:
            return None
        started = time.perf_counter()
        docs_dir = Path(self.docs_dir)
        docs_dir.mkdir(parents=True, exist_ok=True)
        old_pages = docs_dir / "validations"
        if not keep_history and old_pages.is_dir():
            shutil.rmtree(old_pages)
        self.context.build_data_docs(site_names=[DOCS_SITE_NAME])
        self._add_time("docs_s", started)
        return docs_dir.resolve() / "index.html"

    def _add_time(self, key: str, started: float) -> None:
        self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - started


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
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    parse_error_count: int = 0,
    file_count: int = 0,
    run_name: str | None = None,
    fingerprint_batches: bool = False,
    keep_docs_history: bool = False,
    carried_issues: pd.DataFrame | None = None,
) -> GateResult:
    """Validate a run's terms and cells with Great Expectations, part by part, and judge the run.

    Each part is a pair of frames, ``(terms, cells)``, usually the terms and cells of one
    slice of the reports: a part is validated and reduced to its issue rows before the next
    is loaded (``parts`` may be a generator), so the gate's memory is that of one part
    however large the warehouse.  The run-level suite judges the shares of the whole run
    once, at the end.

    Args:
        parts: ``(terms, cells)`` pairs.  terms: frame of the dbt model
            ``int_identity_terms`` (suites.TERMS_COLUMNS); cells: frame of the current
            cells (suites.CELLS_COLUMNS, optionally raw_token/raw and
            source_position/position, which feed the issue's ``cells`` text).
        docs_dir: if set, build the GE Data Docs site there (e.g. ``HOME/quality``).
        reports: frame of the run's reports (``report_id`` at least); the run's
            denominator.  Without it, the reports seen in the parts.
        max_bad_share: max share of bad files/reports; the gate trips when a share is
            strictly above it.
        parse_error_count: files of the run that failed to parse.
        file_count: files in the run (default: parsed reports + parse errors).
        run_name: GE run name (Data Docs group validations by it), e.g. the Dagster run id.
        fingerprint_batches: keep GE's md5 fingerprint of each batch (off: see
            :func:`batch_fingerprints`; it only feeds a batch marker).
        keep_docs_history: keep earlier runs' validation pages under ``docs_dir/validations``.
        carried_issues: issues of reports judged by an earlier run and unchanged since (an
            incremental run judges only what changed): they are part of the result's
            issues, its quarantines and its shares, but not validated again.

    Returns:
        A :class:`~expectations.results.GateResult`.  Empty frames (0 reports) pass.
    """
    run = GateRun(docs_dir=docs_dir, run_name=run_name, max_bad_share=max_bad_share)
    with batch_fingerprints(fingerprint_batches):
        for terms, cells in _at_least_one(parts):
            run.validate_part(terms, cells)
        return run.finish(reports=reports, parse_error_count=parse_error_count, file_count=file_count,
                          carried_issues=carried_issues, keep_docs_history=keep_docs_history)


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
