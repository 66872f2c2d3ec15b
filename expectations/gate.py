"""The quality gate as a whole: judge what changed in a built warehouse, keep what it found.

:func:`run_quality_gate` is what the Dagster asset calls between dbt's two phases:

1. read the gate's state (:mod:`expectations.state`) and the current reports' fingerprints,
   and pick the reports to judge: those whose fingerprint changed;
2. load their identity terms and cells in parts (:mod:`expectations.load`) and let Great
   Expectations judge them (:mod:`expectations.run`);
3. add the issues of the reports not judged again, keep each issue's first-found time,
   and tell the new issues apart (:mod:`expectations.issues`).

:func:`write_outcome` then stores the issues (which the marts read) and the state.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.templates import AMOUNT_FIELDS, SIGNED_FIELDS

from . import batches, issues, load, results, rules, run, state, suites
from .results import GateResult
from .run import DEFAULT_MAX_BAD_SHARE
from .state import GateState


@dataclass(frozen=True)
class GateConfig:
    """The gate's settings (``OGI_MAX_BAD_SHARE``, ``OGI_GATE_*``; Dagster run config of the gate asset)."""

    max_bad_share: float = DEFAULT_MAX_BAD_SHARE
    #: below this many files in a run, the shares are judged over the whole warehouse
    min_run_files: int = 10
    #: reports validated at a time (bounds memory: about 1 GB per 40,000 reports)
    chunk_reports: int = 40_000
    #: judge every report again, not only those that changed
    full: bool = False


@dataclass
class GateOutcome:
    """What one gate run produced: GE's result, the reports it covered, what is new, timings."""

    result: GateResult
    reports: pd.DataFrame  # every current report: report_id, source_file, agency, year, parsed_at
    new_issues: pd.DataFrame  # the issues no earlier run had found
    fingerprints: pd.DataFrame  # report_id, fingerprint of every current report
    judged_with: str
    judged_count: int  # reports validated by this run
    scope: str  # "everything" or "changed reports"
    gate_s: float
    sql_s: float  # the same identities as one plain DuckDB query (a yardstick)
    sql_violations: int


#: The modules whose code decides a verdict: a change to one of them judges everything again.
_VERDICT_MODULES = (batches, issues, load, results, rules, run, state, suites)


def judgement_fingerprint() -> str:
    """What a verdict depends on besides the data: when it changes, every report is judged again.

    The suites (:func:`~expectations.suites.suites_fingerprint`), the template keys and field
    sets the cell rules use, the Great Expectations version, and the code of the gate itself,
    so that a fix to how the gate prepares its batches re-judges the warehouse instead of
    keeping old verdicts.
    """
    digest = hashlib.sha256()
    for part in (suites.suites_fingerprint(), suites.SUITE_VERSION, version("great_expectations"),
                 *sorted(suites.known_cell_keys()), "|", *sorted(SIGNED_FIELDS), "|", *sorted(AMOUNT_FIELDS)):
        digest.update(str(part).encode("utf-8") + b"\0")
    for module_file in (*(m.__file__ for m in _VERDICT_MODULES), __file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


def run_quality_gate(warehouse: Path, parquet_dir: Path, *, docs_dir: Path | None, run_id: str,
                     run_started: datetime | None = None, config: GateConfig = GateConfig()) -> GateOutcome:
    """Judge the current reports of the built ``warehouse`` that changed since the last gate.

    ``parquet_dir`` holds the gate's state; ``docs_dir`` receives Great Expectations' Data
    Docs; ``run_started`` lets the run-level shares cover this run's files (when there
    are at least ``config.min_run_files``) rather than the whole warehouse.
    """
    started = time.perf_counter()
    stored = GateState.read(parquet_dir)
    judged_with = judgement_fingerprint()
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        fingerprints = load.fingerprints(con)
        scope = stored.scope(fingerprints, judged_with, full=config.full)
        reports = load.current_reports(con)
        share_reports, share_errors, _ = load.run_share_frames(reports, load.parse_errors(con), run_started,
                                                               config.min_run_files)
        result = run.run_gate_parts(
            load.parts(con, scope.judge, config.chunk_reports),
            reports=share_reports,
            parse_error_count=share_errors,
            file_count=len(share_reports) + share_errors,
            docs_dir=docs_dir,
            run_name=run_id,
            carried_issues=scope.carried,
            max_bad_share=config.max_bad_share,
        )
        gate_s = time.perf_counter() - started
        sql_violations, sql_s = load.sql_identities(con, scope.judge)
    finally:
        con.close()
    if len(scope.judge) >= RELEASE_AFTER_REPORTS:
        _release_memory()
    result.issues, new_issues = issues.keep_first_found(result.issues, stored.previous)
    return GateOutcome(result, reports, new_issues, fingerprints, judged_with, len(scope.judge), scope.why,
                       gate_s, sql_s, sql_violations)


def write_outcome(outcome: GateOutcome, parquet_dir: Path) -> Path:
    """Store the run's issues and (when the gate passed) the fingerprints it judged; the issues' path."""
    stored = GateState(parquet_dir, None, None)
    stored.save(outcome.result.issues, outcome.fingerprints, outcome.judged_with, passed=outcome.result.passed)
    return stored.issues_path


#: Judged reports from which the gate hands its frames back to the OS: below it they are small, and
#: a full collection of the run's process (~0.4 s) would cost more than it frees.
RELEASE_AFTER_REPORTS = 2_000


def _release_memory() -> None:
    """Hand the gate's freed frames back to the OS before the marts' dbt build starts."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused by this process instead
        pass
