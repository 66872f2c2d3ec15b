"""The fault probe's driver: runs inside a fresh mount and network namespace (``unshare``).

``tests/test_faults.py`` starts it as ``unshare -m -n [-r] python fault_probe.py PHASE CONFIG``
and reads back what it saw (a JSON file); it asserts, this script only acts and records.

``full-disk``  a small tmpfs as the home: ``ogi run`` with the disk full from the start
               (Dagster cannot even record the run), then with a file in the inbox larger
               than the disk (the raw copy fails); the home is then copied out, and the
               test puts it back on the same path for the next phase. Also publishing onto
               a disk too small for a second copy.
``offline``    the network is a loopback interface and nothing else: ``ogi run`` on a
               hostile inbox (under strace when there is one), then ``ogi ui`` until it
               answers on 127.0.0.1 (under strace too).

Every Python process started here imports ``netguard/sitecustomize.py`` (``PYTHONPATH``),
which records each socket connection, name lookup and datagram that is not to a unix
socket: a second witness beside strace, and the only one where strace is missing.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Syscalls strace records: connections and datagrams, and renames (how every file of ours gets its name).
TRACED = "connect,sendto,sendmsg,sendmmsg,rename,renameat,renameat2"


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(b")") + 2:].split()[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss_and_name(pid: int) -> tuple[int, str]:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            rss = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            name = fh.read().replace(b"\0", b" ").decode(errors="replace")[:160]
    except OSError:
        return 0, ""
    return rss * 1024, name


def run(command: list[str], env: dict[str, str], log: Path, timeout: float = 900) -> dict:
    """Run ``command``; its exit status, output, time, and the largest resident size any one of
    its processes reached (sampled every 0.1 s)."""
    started = time.monotonic()
    peak, peak_name = 0, ""
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        while proc.poll() is None:
            if time.monotonic() - started > timeout:
                proc.kill()
            for pid in _descendants(proc.pid):
                rss, name = _rss_and_name(pid)
                if rss > peak:
                    peak, peak_name = rss, name
            time.sleep(0.1)
    return {"rc": proc.returncode, "output": log.read_text(encoding="utf-8", errors="replace"),
            "seconds": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak / 1048576),
            "peak_process": peak_name}


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def mount_tmpfs(where: Path, megabytes: int) -> None:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)], check=True)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its disk is full; the file."""
    filler = folder / "filler"
    block = b"\0" * 65536
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    # the last partial block: byte by byte, so that nothing is left
    with open(filler, "ab", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def loopback_up() -> None:
    """Bring up ``lo`` in this network namespace (it starts down), without the ip command."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


def full_disk(cfg: dict) -> dict:
    out: dict = {}
    home = Path(cfg["home"])  # a tmpfs mounted on the path the next phase uses (one dbt parse for both)
    mount_tmpfs(home, cfg["megabytes"])
    mnt = home
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    ogi = [cfg["ogi"], "run", "--home", str(home)]

    filler = fill(mnt)
    out["full_from_start"] = run(ogi + ["--inbox", cfg["small_inbox"]], env, Path(cfg["logs"]) / "full_start.log")
    filler.unlink()
    out["full_at_raw_copy"] = run(ogi + ["--inbox", cfg["big_inbox"]], env, Path(cfg["logs"]) / "full_raw.log")
    out["free_after_raw_copy"] = shutil.disk_usage(mnt).free
    alerts = home / "alerts.jsonl"
    out["alerts"] = alerts.read_text(encoding="utf-8").splitlines() if alerts.exists() else []
    out["home_files"] = listing(home)
    shutil.copytree(home, cfg["copy_home_to"], symlinks=True)

    # publishing onto a disk with room for one copy of the warehouse, not two
    tiny = Path(cfg["tiny_mount"])
    build = Path(cfg["build"])
    mount_tmpfs(tiny, cfg["tiny_megabytes"])
    target = tiny / "warehouse.duckdb"
    sys.path.insert(0, str(HERE.parent))
    from orchestration.publish import publish_warehouse

    publish_warehouse(build, target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    try:
        publish_warehouse(build, target)
        out["second_publish"] = "published"
    except OSError as exc:
        out["second_publish"] = f"{type(exc).__name__}: {exc}"
    out["published_unchanged"] = hashlib.sha256(target.read_bytes()).hexdigest() == before
    out["tiny_files"] = listing(tiny)
    return out


def offline(cfg: dict) -> dict:
    out: dict = {}
    loopback_up()
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", PYTHONPATH=str(HERE / "netguard"),
               OGI_NETGUARD_LOG=cfg["netguard_log"], OGI_ALERT_WEBHOOK=cfg["webhook"])
    trace: list[str] = []
    if shutil.which("strace"):
        trace = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={TRACED}", "-e", "signal=none",
                 "-s", "512", "-o", cfg["strace_log"], "--"]
    out["strace"] = bool(trace)
    out["run_started"] = time.time()
    out["run"] = run(trace + [cfg["ogi"], "run", "--inbox", cfg["inbox"], "--home", cfg["home"]], env,
                     Path(cfg["logs"]) / "offline_run.log")

    # the UI and its daemon start, and answer on 127.0.0.1
    if trace:
        trace[trace.index("-o") + 1] = cfg["strace_ui_log"]
    started = time.monotonic()
    with open(Path(cfg["logs"]) / "offline_ui.log", "w", encoding="utf-8") as log:
        ui = subprocess.Popen(trace + [cfg["ogi"], "ui", "--home", cfg["home"], "--inbox", cfg["inbox"],
                                       "--port", str(cfg["port"])],
                              stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        answered = None
        while time.monotonic() - started < 180 and ui.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{cfg['port']}/server_info", timeout=5) as resp:
                    answered = resp.status
                    break
            except OSError:
                time.sleep(1)
        out["ui_answered"] = answered
        out["ui_seconds"] = round(time.monotonic() - started, 1)
        time.sleep(3)  # the daemon's first loop: schedule and sensor
        # stopped at once: how dagster dev shuts down is not what this phase looks at
        for pid in _descendants(ui.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        ui.wait()
    out["ui_output"] = (Path(cfg["logs"]) / "offline_ui.log").read_text(encoding="utf-8", errors="replace")
    return out


def main() -> int:
    phase, config = sys.argv[1], Path(sys.argv[2])
    cfg = json.loads(config.read_text())
    result = {"full-disk": full_disk, "offline": offline}[phase](cfg)
    Path(cfg["result"]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
