"""dbt in the run's own process: one parse per run, both phases from the same manifest.

dagster-dbt's ``DbtCliResource`` starts a ``dbt`` process per invocation and gives it a new
``target/`` folder each time: every phase paid Python's start, dbt's imports (~2-3 s) and a
parse, and a run has two phases.  Here dbt runs through its programmatic entry point
(``dbtRunner``) in the run's process:

* the project is parsed once per run, into a target folder that stays in the home
  (``HOME/build/dbt-target``), so dbt's partial parsing (``partial_parse.msgpack``) carries
  over from one run to the next, and the parsed manifest serves both phases;
* dbt's results become Dagster events through dagster-dbt's own public conversion
  (:meth:`DbtCoreCliEventMessage.to_default_asset_events`), the events the CLI resource
  yields: a materialization per model and seed, an observation per test that does not pass
  (dbt's tests are no Dagster asset checks here: ``defs/dbt.py``);
* what does not depend on the data is built only when the dbt code changed: the seeds, the
  models that read only seeds, the tests on them and the unit tests run when the dbt
  project's fingerprint differs from the one the working warehouse was last fully built with
  (``HOME/build/dbt_code.json``).  So are the views: a view is its SQL, not its rows, and
  reads the current data whenever it is queried.  Every table model that reads the data, and
  every test on a model that reads it (views included), runs each time.

dbt's lines (info and above) go to the run's log file, and to stdout when :data:`ECHO` is
true (the UI's compute logs; ``ogi run --verbose``).
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import paths

#: dbt's events that carry a node's result (what dagster-dbt turns into Dagster events).
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
#: What decides the compiled dbt project besides its files.
_VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")
#: Where the dbt project's inputs live (as orchestration/dbt_project.py lists them).
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "selectors.yml", "models", "macros", "seeds", "tests", "snapshots")
#: ``env_var('NAME')`` in the project's files.
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
#: HOME/build/dbt_code.json: per phase (dbt asset), the dbt code of its last full build and the results
#: of its nodes that read no data.
STAMP_FILE = "dbt_code.json"
#: Print dbt's lines to stdout too (the UI's compute logs); ``ogi run`` sets it from --verbose.
ECHO = True

_invocation_lock = threading.Lock()  # dbt's programmatic entry point is not re-entrant
#: run id -> dbt tests passed / warned / failed / kept (not re-run), for ``ogi run``'s summary.
_tallies: dict[str, Counter] = {}


def tests_tally(run_id: str) -> Counter:
    """The dbt test counts of run ``run_id`` in this process (both phases)."""
    if run_id not in _tallies:
        _tallies.clear()  # one run at a time: keep only the current one
        _tallies[run_id] = Counter()
    return _tallies[run_id]


class DbtError(RuntimeError):
    """dbt could not parse the project or select its nodes."""


def dbt_fingerprint(project_dir: Path = paths.DBT_PROJECT_DIR) -> str:
    """A digest of the dbt project's files, of the dbt and DuckDB versions that compile them, and of
    the environment variables the project reads (``env_var('OGI_PARQUET_DIR')`` is in every
    staging view's SQL: a home moved elsewhere must build its views again)."""
    digest = hashlib.sha256()
    for name in _VERSIONED:
        digest.update(f"{name}={version(name)}\0".encode())
    read: set[str] = set()
    for name in DBT_SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                data = f.read_bytes()
                digest.update(str(f.relative_to(project_dir)).encode() + b"\0" + data + b"\0")
                read.update(_ENV_VAR.findall(data.decode("utf-8", errors="replace")))
    # as dbt will see them once the run has pointed the process at its home (paths.export_env)
    env = {**os.environ, **paths.environment(paths.current())}
    for name in sorted(read):
        digest.update(f"{name}={env.get(name, '')}\0".encode())
    return digest.hexdigest()


def target_dir(p: paths.Paths) -> Path:
    """The dbt target folder of a home: kept between runs for partial parsing."""
    return p.build_warehouse.parent / "dbt-target"


# --------------------------------------------------------------------------- the stamp


def _stamp_path(p: paths.Paths) -> Path:
    return p.build_warehouse.parent / STAMP_FILE


def read_stamp(p: paths.Paths) -> dict[str, dict[str, Any]]:
    """phase -> {"fingerprint": the dbt code its data-independent nodes were last fully built with,
    "events": their result events of that build (unique id -> dbt's JSON event)}."""
    try:
        data = json.loads(_stamp_path(p).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {phase: entry for phase, entry in data.items() if isinstance(entry, dict)}


def set_stamp(p: paths.Paths, phase: str, fingerprint: str | None, events: dict[str, Any] | None = None) -> None:
    """Record (or, with ``fingerprint`` None, forget) the full build of ``phase``."""
    from ingestion.atomic import write_bytes_atomic

    stamp = read_stamp(p)
    if fingerprint is None:
        stamp.pop(phase, None)
    else:
        stamp[phase] = {"fingerprint": fingerprint, "events": events or {}}
    write_bytes_atomic(json.dumps(stamp, sort_keys=True).encode(), _stamp_path(p))


# --------------------------------------------------------------------------- parsing


@dataclass
class _Parsed:
    key: tuple[str, str, str]  # run id, home, dbt fingerprint
    manifest: Any  # dbt.contracts.graph.manifest.Manifest


_parsed: _Parsed | None = None


def _common_args(p: paths.Paths) -> list[str]:
    target = str(target_dir(p))
    project = str(paths.DBT_PROJECT_DIR)
    # no manifest.json / run_results.json: the run keeps the parsed manifest in memory and dbt's results
    # in its log; writing the manifest cost ~0.2 s per invocation (partial parsing still saves its state)
    return ["--project-dir", project, "--profiles-dir", project, "--target-path", target, "--log-path", target,
            "--log-level", "none", "--log-level-file", "none", "--no-use-colors", "--no-write-json"]


def parsed_manifest(p: paths.Paths, run_id: str, fingerprint: str, on_line: Callable[[str], None]) -> Any:
    """The dbt manifest of this run: parsed once (partially, from the home's target folder)."""
    global _parsed
    key = (run_id, str(p.home), fingerprint)
    if _parsed is not None and _parsed.key == key:
        return _parsed.manifest
    from dbt.cli.main import dbtRunner

    with _invocation_lock:
        try:
            result = dbtRunner(callbacks=[_line_callback(on_line)]).invoke(["parse", *_common_args(p)])
        finally:
            release_duckdb()
    if not result.success or result.result is None:
        raise DbtError(f"dbt parse failed: {result.exception or 'see the run log'}")
    _parsed = _Parsed(key, result.result)
    return result.result


def forget_manifest() -> None:
    """Drop the parsed manifest this process keeps for the run."""
    global _parsed
    _parsed = None


# --------------------------------------------------------------------------- what runs


def data_independent(manifest: Any) -> set[str]:
    """Unique ids of the nodes that read no source: seeds, models over seeds only, tests on them,
    and every unit test (they test the models' code on fixed rows)."""
    _, ancestors = lineage(manifest)
    out = {uid for uid in manifest.nodes if not any(a.startswith("source.") for a in ancestors(uid))}
    out.update(getattr(manifest, "unit_tests", {}) or {})
    return out


def _selected(p: paths.Paths, manifest: Any, selection: list[str]) -> list[str]:
    """The unique ids ``dbt build`` would run with ``selection`` (dbt's own selector)."""
    from dbt.cli.main import dbtRunner

    with _invocation_lock:
        try:
            result = dbtRunner(manifest=manifest).invoke(["ls", "--resource-type", "all", "--output", "json",
                                                          "--output-keys", "unique_id", *selection, *_common_args(p)])
        finally:
            release_duckdb()
    if not result.success:
        raise DbtError(f"dbt ls failed: {result.exception}")
    return [json.loads(line)["unique_id"] for line in result.result]


def _names(manifest: Any, uids: list[str]) -> list[str]:
    """dbt selectors for ``uids`` (models and data tests): their fully qualified names."""
    return ["fqn:" + ".".join(manifest.nodes[uid].fqn) for uid in uids if uid in manifest.nodes]


def lineage(manifest: Any) -> tuple[dict[str, int], Callable[[str], set[str]]]:
    """The nodes' topological order (unique id -> rank) and a function giving a node's ancestors."""
    nodes = manifest.nodes
    memo: dict[str, set[str]] = {}

    def ancestors(uid: str) -> set[str]:
        if uid not in memo:
            memo[uid] = set()  # no cycles in a dbt graph; this only guards the recursion
            node = nodes.get(uid)
            parents = (getattr(node.depends_on, "nodes", None) or []) if node is not None else []
            found: set[str] = set(parents)
            for parent in parents:
                found |= ancestors(parent)
            memo[uid] = found
        return memo[uid]

    rank = {uid: len(ancestors(uid)) for uid in nodes}  # an ancestor has fewer ancestors than its heirs
    return rank, ancestors


def views(manifest: Any) -> set[str]:
    """Unique ids of the view models: what a build makes of them is their SQL, not their rows."""
    return {uid for uid, node in manifest.nodes.items()
            if uid.startswith("model.") and getattr(node.config, "materialized", None) == "view"}


def keepable(manifest: Any) -> set[str]:
    """The nodes a run with unchanged dbt code need not build: what reads no data, and the views."""
    return data_independent(manifest) | views(manifest)


def _relation(manifest: Any, uid: str) -> tuple[str, str] | None:
    """(schema, name) of the relation a model or seed builds; None for a test or a unit test."""
    node = manifest.nodes.get(uid)
    if node is None or not uid.startswith(("model.", "seed.", "snapshot.")):
        return None
    return str(node.schema).lower(), str(getattr(node, "alias", None) or node.name).lower()


def _missing_relations(p: paths.Paths, wanted: set[tuple[str, str]]) -> list[str]:
    """Which of the relations ``wanted`` the working warehouse lacks (read-only; dbt has released it)."""
    import duckdb

    if not wanted:
        return []
    con = duckdb.connect(str(p.build_warehouse), read_only=True)
    try:
        present = {(s.lower(), t.lower()) for s, t in
                   con.execute("select table_schema, table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    return sorted(f"{s}.{t}" for s, t in wanted - present)


@dataclass
class Plan:
    """What one dbt phase runs, and why."""

    args: list[str]
    full: bool  # the data-independent nodes and the views are built too
    reason: str = ""
    kept: dict[str, Any] = field(default_factory=dict)  # unique id -> its result event of the last full build


#: Nodes whose results dagster-dbt turns into Dagster events (a kept one must have a stored result).
_EVENTFUL = ("model.", "seed.", "snapshot.", "test.")


def plan(p: paths.Paths, manifest: Any, phase: str, selection: list[str], *, subset: bool,
         fingerprint: str, force_full: bool = False) -> Plan:
    """The ``dbt build`` arguments of ``phase``: everything, or the table models that read the data
    and every test on a model that reads it.

    A subset (the UI materializing some models) runs exactly what was asked. Otherwise the
    nodes that read no data, and the views, are kept as they are when the working warehouse
    holds them as the last full build with the same dbt code made them; their results of that
    build are replayed to Dagster (:data:`Plan.kept`).
    """
    if subset or force_full:
        return Plan(["build", *selection], True, "a subset" if subset else "asked for")
    if not p.build_warehouse.exists():
        return Plan(["build", *selection], True, "no working warehouse yet")
    stamp = read_stamp(p).get(phase) or {}
    if stamp.get("fingerprint") != fingerprint:
        return Plan(["build", *selection], True, "the working warehouse was not fully built with this dbt code")
    everything = _selected(p, manifest, selection)
    view_ids = views(manifest)
    keep = data_independent(manifest) | view_ids
    stored = stamp.get("events") or {}
    kept = {uid: stored.get(uid) for uid in everything if uid in keep}
    if any(event is None and uid.startswith(_EVENTFUL) for uid, event in kept.items()):
        return Plan(["build", *selection], True, "the last full build's results are incomplete")
    missing = _missing_relations(p, {rel for uid in kept if (rel := _relation(manifest, uid)) is not None})
    if missing:
        return Plan(["build", *selection], True, f"the working warehouse lacks {', '.join(missing[:3])}")
    run = [uid for uid in everything if uid not in keep and not uid.startswith("source.")]
    if not run:
        return Plan([], False, "every node of the phase reads no data or is a view, and is kept", kept)
    kept_views = sum(1 for uid in kept if uid in view_ids)
    return Plan(["build", "--indirect-selection", "empty", "--exclude-resource-type", "unit_test",
                 "--select", *_names(manifest, run)], False,
                f"the dbt code is unchanged: {len(kept) - kept_views} nodes that read no data (seeds, models over "
                f"seeds only, their tests, unit tests) and {kept_views} views are kept from the last full build; "
                "the tests on the views run",
                {uid: event for uid, event in kept.items() if event is not None})


# --------------------------------------------------------------------------- running


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after an invocation.

    dbt-duckdb keeps one environment (and its DuckDB instance) per process between
    invocations; while it is open, this process cannot open the same file otherwise (the
    gate attaches it read-only, publishing checkpoints it: "Unique file handle conflict").
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover (dbt-duckdb is a dependency)
        return
    from dbt.adapters.factory import reset_adapters

    reset_adapters()  # dbt registers the adapter again at each invocation; this frees its locks now
    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def _line_callback(on_line: Callable[[str], None]) -> Callable[[Any], None]:
    def callback(msg: Any) -> None:
        info = msg.info
        if info.level in ("info", "warn", "error") and info.msg:
            on_line(info.msg)

    return callback


@dataclass
class Invocation:
    """One finished ``dbt build``: whether it succeeded and what failed."""

    success: bool = False
    failures: list[str] = field(default_factory=list)
    exception: BaseException | None = None
    nodes: int = 0


def invoke(p: paths.Paths, manifest: Any, args: list[str], on_line: Callable[[str], None],
           on_result: Callable[[dict[str, Any]], None] | None = None) -> Iterator[dict[str, Any] | Invocation]:
    """Run ``dbt`` with ``args``; yields each node's result event (a dict, as in dbt's JSON
    logs) as it finishes, then the :class:`Invocation`."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    events: queue.Queue = queue.Queue()
    line = _line_callback(on_line)

    def callback(msg: Any) -> None:
        line(msg)
        if msg.info.name in RESULT_EVENTS:
            events.put(("event", msg_to_dict(msg)))

    def work() -> None:
        try:
            with _invocation_lock:
                try:
                    result = dbtRunner(manifest=manifest, callbacks=[callback]).invoke([*args, *_common_args(p)])
                finally:
                    release_duckdb()
            events.put(("done", result))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            events.put(("error", exc))

    worker = threading.Thread(target=work, name="dbt", daemon=True)
    worker.start()
    while True:
        kind, item = events.get()
        if kind == "event":
            yield item
            continue
        worker.join()
        if kind == "error":
            yield Invocation(False, [f"{type(item).__name__}: {item}"], item)
            return
        outcome = Invocation(bool(item.success), exception=item.exception)
        results = getattr(item.result, "results", None) or []
        outcome.nodes = len(results)
        for r in results:
            status = str(getattr(r.status, "value", r.status))
            if status in ("error", "fail", "runtime error"):
                outcome.failures.append(f"{r.node.unique_id} ({status}): {(r.message or '').strip()}")
        if item.exception is not None and not outcome.failures:
            outcome.failures.append(f"{type(item.exception).__name__}: {item.exception}")
        yield outcome
        return
