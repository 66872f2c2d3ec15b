"""Running ``dagster dev`` under ``ogi ui``: its own process group, signals forwarded, nothing left behind.

``dagster dev`` started from a non-interactive shell (``ogi ui &``, a service manager)
inherits SIGINT as ignored, and did not stop on SIGTERM within 8 s when probed; executed in
place of ``ogi ui`` it could only be stopped by killing its process group.  So ``ogi ui``
stays the parent: it starts ``dagster dev`` in a new session (its own process group),
turns SIGTERM, SIGINT and SIGHUP into a SIGTERM to that group, and, when the group has not
ended after :data:`GRACE_S` seconds (or at a second signal), kills it and every process
that descends from it.  The child also asks the kernel for SIGTERM should ``ogi ui`` itself
die (``PR_SET_PDEATHSIG``), so not even a SIGKILL of ``ogi ui`` leaves the UI running.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

#: Seconds the UI's processes get to stop after SIGTERM before they are killed.
GRACE_S = 5.0
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] != b"Z"  # a zombie is gone but for its parent
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _signal_all(pgid: int, pids: Sequence[int], sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent (``ogi ui``) dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(command: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, grace_s: float = GRACE_S) -> int:
    """Run ``command`` supervised until it ends or this process is told to stop; its exit status
    (0 when it was stopped on request)."""
    stop_requests: list[int] = []

    def on_signal(signum, frame) -> None:  # noqa: ARG001
        stop_requests.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in FORWARDED}
    try:
        proc = subprocess.Popen(list(command), cwd=str(cwd), env=env, start_new_session=True,
                                preexec_fn=_die_with_parent)
        known: set[int] = set()
        deadline: float | None = None
        while True:
            try:
                code = proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                code = None
            known.update(descendants(proc.pid))
            if code is not None:
                break
            if stop_requests and deadline is None:
                deadline = time.monotonic() + grace_s
                _signal_all(proc.pid, sorted(known), signal.SIGTERM)
            if deadline is not None and (len(stop_requests) > 1 or time.monotonic() > deadline):
                _signal_all(proc.pid, sorted(known | set(descendants(proc.pid))), signal.SIGKILL)
                deadline = float("inf")  # killed: wait for the end
        # the group's leader has ended: end whatever it left (its children, a code server)
        leftovers = [pid for pid in sorted(known) if _alive(pid)]
        if leftovers:
            _signal_all(proc.pid, leftovers, signal.SIGTERM)
            until = time.monotonic() + min(grace_s, 3.0)
            while time.monotonic() < until and any(_alive(pid) for pid in leftovers):
                time.sleep(0.1)
            _signal_all(proc.pid, [pid for pid in leftovers if _alive(pid)], signal.SIGKILL)
        return 0 if stop_requests else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
