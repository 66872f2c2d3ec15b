"""Every setting of ogi-warehouse: one table, read from the environment when used.

A setting is an ``OGI_*`` environment variable with a default.  Nothing here is read
at import: :func:`get` reads the variable each time it is called, so that a test or
``ogi run --home`` can point one process at another home, and so that a value set
after start-up counts.  The packages that do the work (``ingestion``,
``expectations``) never read the environment: they take these values as arguments,
and this module is where the application (the CLI, the Dagster assets, the
benchmarks) gets them.

The README's table of settings is checked against :data:`SETTINGS` by the tests.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class SettingError(ValueError):
    """An ``OGI_*`` variable holds a value the setting cannot take; the message names both."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, default, how its text is read, and what it does."""

    env: str
    default: T
    parse: Callable[[str], T]
    doc: str
    #: the default as the README prints it (for defaults worked out at run time)
    shown_default: str = ""

    def get(self) -> T:
        """The value now: the variable when it is set and not empty, else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"{self.env}={raw!r}: {exc}") from None

    @property
    def default_text(self) -> str:
        return self.shown_default or ("(unset)" if self.default is None else str(self.default))


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _workers(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number (0: every core)")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if math.isnan(value) or value < 0:
        raise ValueError("must be a number of at least 0")
    return value


def _share(raw: str) -> float:
    value = float(raw)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError("must be a share between 0 and 1")
    return value


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be 1 or 0")


def _text(raw: str) -> str:
    return raw


HOME = Setting("OGI_HOME", None, _text, "The warehouse home: raw copies, Parquet, the DuckDB warehouse, "
               "Dagster's runs, logs, alerts.", "./ogi_home")
INBOX = Setting("OGI_INBOX", None, _text, "The folder watched for new reports.", "the bundled sample reports")
PARSE_WORKERS = Setting("OGI_PARSE_WORKERS", 0, _workers,
                        "Processes that parse reports (1 parses in the run's own process; 0: one per core).",
                        "0")
MAX_FILE_MB = Setting("OGI_MAX_FILE_MB", 200.0, _non_negative_float,
                      "Files larger than this many MB are refused unread.")
FILE_TIMEOUT_S = Setting("OGI_FILE_TIMEOUT_S", 60.0, _non_negative_float,
                         "Seconds one file may take to parse (0: no limit).")
PARSE_MEMORY_MB = Setting("OGI_PARSE_MEMORY_MB", 1024.0, _non_negative_float,
                          "Memory one parse worker may hold; a file that needs more is refused as too large "
                          "(0: no ceiling; with OGI_PARSE_WORKERS=1 there is none).")
MAX_BAD_SHARE = Setting("OGI_MAX_BAD_SHARE", 0.5, _share,
                        "The quality gate fails the run when parse failures or quarantined reports "
                        "exceed this share of the run's files.")
GATE_MIN_RUN_FILES = Setting("OGI_GATE_MIN_RUN_FILES", 10, _positive_int,
                             "Below this many files in a run, the gate's shares are judged over the "
                             "whole warehouse instead of the run's files.")
GATE_CHUNK_REPORTS = Setting("OGI_GATE_CHUNK_REPORTS", 40_000, _positive_int,
                             "Reports the quality gate validates at a time (bounds its memory: about "
                             "1 GB per 40,000 reports).")
GATE_FULL = Setting("OGI_GATE_FULL", False, _flag,
                    "1: the quality gate judges every report again, not only those that changed.", "0")
GATE_PROCESS = Setting("OGI_GATE_PROCESS", True, _flag,
                       "1: the quality gate runs in a process of its own, started with the run, which imports "
                       "Great Expectations (~2 s) while the run parses and builds; 0: in the run's process.", "1")
ALERT_WEBHOOK = Setting("OGI_ALERT_WEBHOOK", None, _text,
                        "An http(s) URL that receives each run's alert as a JSON POST.")
DUCKDB_MEMORY_LIMIT = Setting("OGI_DUCKDB_MEMORY_LIMIT", "1GB", _text,
                              "Memory limit of dbt's DuckDB (it spills to disk beyond it); read by "
                              "dbt_project/profiles.yml.")

LOG_RETENTION_DAYS = Setting("OGI_LOG_RETENTION_DAYS", 30.0, _non_negative_float,
                             "Days a run's log (HOME/logs/runs/<run id>.log) is kept; older ones are removed "
                             "when a run starts (0: keep every log).")

#: Every setting, in the order the README lists them.
SETTINGS: tuple[Setting, ...] = (
    HOME, INBOX, PARSE_WORKERS, MAX_FILE_MB, FILE_TIMEOUT_S, PARSE_MEMORY_MB, MAX_BAD_SHARE, GATE_MIN_RUN_FILES,
    GATE_CHUNK_REPORTS, GATE_FULL, GATE_PROCESS, ALERT_WEBHOOK, DUCKDB_MEMORY_LIMIT, LOG_RETENTION_DAYS,
)


def max_file_bytes() -> int:
    """:data:`MAX_FILE_MB` in bytes."""
    return int(MAX_FILE_MB.get() * 1024 * 1024)


def readme_table() -> str:
    """The settings as the README's markdown table."""
    lines = ["| variable | default | what it does |", "| --- | --- | --- |"]
    lines += [f"| `{s.env}` | {s.default_text} | {s.doc} |" for s in SETTINGS]
    return "\n".join(lines)
