"""The fault probe, as tests: nothing from outside the inbox, nothing to the network, nothing left behind.

Real processes throughout. ``ogi run`` and ``ogi ui`` run as subprocesses in a fresh mount
and network namespace (``unshare``; ``tests/fault_probe.py`` drives them there): first on
a small tmpfs home that fills up, then, with the home copied out and damaged the way the
probe damaged it, on a hostile inbox where the network is a loopback interface and
nothing else, under strace. A second test kills ``ogi run`` with SIGKILL while its
workers parse. The numbers in the names are the points of the issue.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from ingestion import parts
from ingestion.atomic import TEMP_NAME, final_name
from ingestion.synthetic.hostile import understated_docx

from fixture_paths import SAMPLES

HERE = Path(__file__).resolve().parent
OGI = str(Path(sys.executable).parent / "ogi")
UNSHARE = ["unshare", "-m", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-m", "-n"]
WEBHOOK = "http://127.0.0.1:9/alerts"  # nothing listens there: every delivery fails


def hostile_inbox(root: Path, outside: Path) -> Path:
    """The sample reports and everything the probe dropped beside them."""
    inbox = root / "inbox"
    shutil.copytree(SAMPLES, inbox)
    (outside / "elsewhere.txt").write_bytes((SAMPLES / "hzq2024.txt").read_bytes() + "\n（另一份报告）\n".encode())
    os.symlink("/etc/passwd", inbox / "x.txt")
    os.symlink(outside / "elsewhere.txt", inbox / "report_elsewhere.txt")
    os.symlink(outside, inbox / "linked_folder")
    os.symlink("hzq2023.txt", inbox / "alias.txt")  # inside the inbox: read once, as hzq2023.txt
    os.symlink("gone.txt", inbox / "broken.txt")
    (inbox / "x.pdf").mkdir()
    (inbox / "x.pdf" / "inner.txt").write_bytes((SAMPLES / "hzq2024.txt").read_bytes())
    os.mkfifo(inbox / "pipe.txt")
    (inbox / "bomb.docx").write_bytes(understated_docx(300))
    (inbox / "huge.txt").write_bytes(b"\xe5\xb9\xb4" * (12 * 1024 * 1024))  # 36 MB of text
    return inbox


#: What the probe planted in the home between the two phases: a killed run's temporary files in
#: every folder a run writes, and DuckDB's spill folder.
PLANTED = [
    ".warehouse.duckdb.0123abcd.tmp",
    "raw/.incoming.0123abcd.tmp",
    "raw/ab/.ab12.txt.0123abcd.tmp",
    "parquet/.inventory.parquet.0123abcd.tmp",
    "parquet/.reports-000042.parquet.0123abcd.tmp",
    "parquet/.commit.json.0123abcd.tmp",
    "parquet/.quality_issues.parquet.0123abcd.tmp",
    "parquet/.agency_links.parquet.0123abcd.tmp",
    "build/.warehouse.duckdb.0123abcd.tmp",
    "build/warehouse.duckdb.tmp/duckdb_temp_storage_DEFAULT-0.tmp",
]


def damage(home: Path) -> None:
    """A killed run's leftovers, a damaged build warehouse, commit journal, gate state and agency links."""
    for name in PLANTED:
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(b"half written")
    (home / "build" / "warehouse.duckdb").write_bytes(b"not a database " * 1000)
    (home / "parquet" / parts.JOURNAL).write_bytes(b'{"rename": [[".reports-0000')
    (home / "parquet" / "quality_judged.parquet").write_bytes(b"PAR1 not parquet")
    (home / "parquet" / "agency_links.parquet").write_bytes(b"PAR1 cut short")


def small_duckdb(path: Path) -> int:
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select range as n, md5(range::varchar) as h from range(60000)")
    return path.stat().st_size


@dataclass
class Probe:
    root: Path
    home: Path
    inbox: Path
    full: dict
    offline: dict


def in_namespace(phase: str, config: dict, root: Path) -> dict:
    config = dict(config, result=str(root / f"{phase}.json"))
    (root / f"{phase}-config.json").write_text(json.dumps(config))
    done = subprocess.run(UNSHARE + [sys.executable, str(HERE / "fault_probe.py"), phase,
                                     str(root / f"{phase}-config.json")],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((root / f"{phase}.json").read_text())


@pytest.fixture(scope="module")
def probe(tmp_path_factory, dbt_manifest: Path) -> Iterator[Probe]:
    root = tmp_path_factory.mktemp("probe")
    (root / "logs").mkdir()
    target = dbt_manifest.parent
    saved_target = {f.name: f.read_bytes() for f in target.iterdir() if f.is_file()}
    small = root / "small_inbox"
    shutil.copytree(SAMPLES, small)
    big = root / "big_inbox"
    shutil.copytree(SAMPLES, big)
    (big / "scan.bin").write_bytes(os.urandom(40 * 1024 * 1024))  # larger than the disk
    build = root / "build.duckdb"
    size = small_duckdb(build)
    home = root / "home"
    home.mkdir()
    full = in_namespace("full-disk", {
        "home": str(home), "megabytes": 24, "ogi": OGI, "small_inbox": str(small),
        "big_inbox": str(big), "logs": str(root / "logs"), "copy_home_to": str(root / "home_after"),
        "tiny_mount": str(root / "tiny"), "tiny_megabytes": max(1, int(size * 1.5 / 1048576) + 1),
        "build": str(build),
    }, root)
    # the same home, on the real disk now (the tmpfs went with its namespace)
    for item in (root / "home_after").iterdir():
        shutil.move(str(item), str(home / item.name))
    damage(home)
    outside = root / "outside"
    outside.mkdir()
    inbox = hostile_inbox(root, outside)
    offline = in_namespace("offline", {
        "ogi": OGI, "inbox": str(inbox), "home": str(home), "logs": str(root / "logs"),
        "strace_log": str(root / "strace-run.log"), "strace_ui_log": str(root / "strace-ui.log"),
        "netguard_log": str(root / "netguard.log"), "webhook": WEBHOOK, "port": 3999,
    }, root)
    yield Probe(root, home, inbox, full, offline)
    # `ogi run` parsed the dbt project for the probe's home: put back the session home's parse, so that
    # the dbt builds of the tests that follow can use dbt's partial parsing
    for name, data in saved_target.items():
        (target / name).write_bytes(data)


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


# --------------------------------------------------------------------------- 8: a full disk


def test_8_a_disk_full_from_the_start_is_one_line_and_no_traceback(probe: Probe) -> None:
    run = probe.full["full_from_start"]
    assert run["rc"] == 1, run["output"]
    assert "Traceback" not in run["output"] and "sqlalchemy" not in run["output"].lower()
    [line] = [x for x in lines_of(run["output"]) if "no space left" in x]
    assert line.startswith("ogi: no space left on HOME's disk (") and "nothing was published" in line
    assert len(lines_of(run["output"])) <= 3, run["output"]


def test_8_a_disk_that_fills_while_copying_the_inbox(probe: Probe) -> None:
    run = probe.full["full_at_raw_copy"]
    assert run["rc"] == 1, run["output"]
    assert "Traceback" not in run["output"]
    [line] = [x for x in lines_of(run["output"]) if "no space left" in x]
    assert "while copying the inbox into HOME/raw" in line and "nothing was published" in line
    failure = [json.loads(a) for a in probe.full["alerts"] if json.loads(a)["kind"] == "ogi.run_failure"]
    assert failure and failure[-1]["step"] == "raw_reports" and "No space left" in failure[-1]["error"]
    assert "warehouse.duckdb" not in probe.full["home_files"]  # nothing published
    assert not [f for f in probe.full["home_files"] if final_name(Path(f).name)]  # nothing half written
    assert probe.full["free_after_raw_copy"] > 1024 * 1024  # the half copy was removed


def test_8_publishing_onto_a_full_disk_keeps_the_published_warehouse(probe: Probe) -> None:
    assert "No space left on device" in probe.full["second_publish"]
    assert probe.full["published_unchanged"]
    assert probe.full["tiny_files"] == ["warehouse.duckdb"]  # no temporary copy left
    from orchestration import diskfull

    line = diskfull.from_failures([("published_warehouse", probe.full["second_publish"])], probe.home)
    assert line and "while publishing the warehouse" in line


def test_8_4_6_the_next_run_recovers_and_heals_what_it_finds(probe: Probe) -> None:
    run = probe.offline["run"]
    assert run["rc"] == 0, run["output"]
    home = probe.home
    left = [name for name in PLANTED if (home / name).exists()]
    assert not left, left
    assert not (home / "build" / "warehouse.duckdb.tmp").exists()
    damaged = [p.name for p in (home / "damaged").rglob("*") if p.is_file()]
    assert sorted(damaged) == sorted([".commit.json", "quality_judged.parquet", "warehouse.duckdb",
                                      "agency_links.parquet"])
    output = run["output"]
    assert "repaired build/warehouse.duckdb cannot be opened" in output
    assert "repaired parquet/quality_judged.parquet cannot be read" in output
    assert "repaired parquet/agency_links.parquet cannot be read" in output
    assert "repaired .commit.json: the commit journal is damaged" in output
    assert f"repaired removed {len(PLANTED)} temporary files and folders" in output
    with duckdb.connect(str(home / "build" / "warehouse.duckdb"), read_only=True) as con:  # built again
        assert con.execute("select count(*) from marts.dim_report").fetchone()[0] == 8
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_report").fetchone()[0] == 8
        # the agency links were made again: hzq2023 and hzq2024 are one body
        assert con.execute("select count(distinct agency_id) from marts.link_report_agency "
                           "where agency in ('洪泽区人民政府', '淮安市洪泽区人民政府')").fetchone()[0] == 1


def test_8_a_gate_that_crashed_before_its_alert_gets_the_failure_alert(tmp_path: Path, monkeypatch) -> None:
    """The failure hook leaves the quality step to the gate's own alert only when the gate wrote one."""
    from orchestration.defs.automation import _gate_alerted

    monkeypatch.setenv("OGI_HOME", str(tmp_path))
    assert not _gate_alerted("run-1")  # no alerts.jsonl at all: the disk was full, the gate crashed
    lines = [{"kind": "ogi.run_failure", "run_id": "run-1"}, {"kind": "ogi.quality_alert", "run_id": "run-2"}]
    (tmp_path / "alerts.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"cut sh')
    assert not _gate_alerted("run-1") and _gate_alerted("run-2")


# --------------------------------------------------------------------------- 1: the inbox


def test_1_nothing_from_outside_the_inbox_is_read(probe: Probe) -> None:
    output = probe.offline["run"]["output"]
    inbox = str(probe.inbox)
    assert "Skipped in the inbox: 6 (not read)" in output
    for name, reason in [("x.txt", "symbolic link to /etc/passwd, outside the inbox: not followed"),
                         ("report_elsewhere.txt", "outside the inbox: not followed"),
                         ("linked_folder", "outside the inbox: not followed"),
                         ("broken.txt", "broken symbolic link"),
                         ("pipe.txt", "a named pipe (FIFO), not a file"),
                         ("x.pdf", "a folder named like a report file: not read")]:
        assert any(line.strip().startswith(f"- {inbox}/{name}: ") and reason in line
                   for line in output.splitlines()), (name, output)
    raw = {p.read_bytes() for p in (probe.home / "raw").rglob("*") if p.is_file()}
    assert Path("/etc/passwd").read_bytes() not in raw
    assert (probe.root / "outside" / "elsewhere.txt").read_bytes() not in raw
    with duckdb.connect(str(probe.home / "warehouse.duckdb"), read_only=True) as con:
        names = {n for (n,) in con.execute("select source_file from marts.dim_report").fetchall()}
        errors = dict(con.execute("select source_file, error from marts.parse_errors").fetchall())
        paths_seen = {p for (p,) in con.execute("select path from staging.stg_inventory").fetchall()}
    assert names == {p.name for p in SAMPLES.iterdir()}  # alias.txt is hzq2023.txt, read once
    assert not any(p.startswith(str(probe.root / "outside")) or p == "/etc/passwd" for p in paths_seen)
    assert not any("x.pdf" in p for p in paths_seen)
    # 7: hostile files are refused by what they are, not by what they declare
    assert "expands to more than 200 MB (its headers declare 0 MB)" in errors["bomb.docx"]
    assert "a text file of 36 MB, over the 32 MB limit" in errors["huge.txt"]


# --------------------------------------------------------------------------- 7: memory


def test_7_no_process_of_the_hostile_run_exceeds_a_gigabyte(probe: Probe) -> None:
    run = probe.offline["run"]
    assert 0 < run["peak_rss_mb"] < 1024, (run["peak_rss_mb"], run["peak_process"])


def test_7_files_that_lie_about_their_size_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A Word file whose headers understate what it expands to (600 MB), 150 MB of text under the
    200 MB limit: `ogi parse` refuses both, and its process never holds more than a few dozen MB."""
    (tmp_path / "liar.docx").write_bytes(understated_docx(600))
    text = (SAMPLES / "hzq2024.txt").read_bytes()
    with open(tmp_path / "long.txt", "wb") as fh:
        for _ in range(150 * 1024 * 1024 // len(text)):
            fh.write(text)
    out = subprocess.run([sys.executable, "-c", """
import json, resource, subprocess, sys
done = subprocess.run([sys.argv[1], "parse", *sys.argv[2:]], capture_output=True, text=True)
print(json.dumps({"out": done.stdout, "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""", OGI, str(tmp_path / "liar.docx"), str(tmp_path / "long.txt")], capture_output=True, text=True, timeout=300)
    result = json.loads(out.stdout)
    liar, long = [json.loads(line) for line in result["out"].splitlines()]
    assert liar["error_kind"] == "too_large", liar
    assert "expands to more than 200 MB (its headers declare 0 MB)" in liar["error"]
    assert long["error_kind"] == "too_large" and "a text file of 150 MB, over the 32 MB limit" in long["error"]
    assert result["peak_mb"] < 200, result["peak_mb"]  # (it was 2.1 GB and 2.8 GB)


# --------------------------------------------------------------------------- 9: the webhook


def test_9_a_failed_webhook_is_recorded_and_the_console_says_so(probe: Probe) -> None:
    output = probe.offline["run"]["output"]
    assert "the webhook did not receive it" in output and "posted" not in output
    alerts = [json.loads(x) for x in (probe.home / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    [failed] = [a for a in alerts if a["kind"] == "ogi.alert_delivery_failed"]
    [sent] = [a for a in alerts if a["kind"] == "ogi.quality_alert"]
    assert failed["run_id"] == sent["run_id"] and failed["attempts"] == 3
    assert "Connection refused" in failed["error"]


# --------------------------------------------------------------------------- 2: the network

_ADDRESS = re.compile(r'sa_family=(AF_INET6?)[^}]*?(?:sin6?_port=htons\((\d+)\))[^}]*?'
                      r'(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def network_calls(strace_log: Path) -> list[tuple[str, int, str]]:
    """(family, port, address) of every connect/sendto/sendmsg to an internet address in an strace log."""
    calls = []
    for line in strace_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line):
            continue
        for family, port, v4, v6 in _ADDRESS.findall(line):
            calls.append((family, int(port), v4 or v6))
        if "AF_INET" in line and not _ADDRESS.search(line):
            calls.append(("unparsed", 0, line))
    return calls


def is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1")


def test_2_no_connection_but_loopback_during_a_run_and_the_ui_start(probe: Probe) -> None:
    offline = probe.offline
    assert offline["ui_answered"] == 200, offline["ui_output"][-3000:]
    witnessed = [json.loads(x) for x in (probe.root / "netguard.log").read_text(encoding="utf-8").splitlines()] \
        if (probe.root / "netguard.log").exists() else []
    lookups = [w for w in witnessed if w["event"] != "socket.connect" and w["event"] != "socket.sendto"]
    assert not [w for w in lookups if w["target"].strip("'\"") not in ("localhost", "127.0.0.1", "::1", "")], lookups
    connects = [w for w in witnessed if w["event"] in ("socket.connect", "socket.sendto")]
    assert all("127.0.0.1" in w["target"] or "::1" in w["target"] for w in connects), connects
    # the alert webhook on 127.0.0.1 was tried, as it should be: the witness sees what happens
    assert any(":9" in w["target"] or ", 9)" in w["target"] for w in connects), connects
    if not offline["strace"]:
        pytest.fail("strace is not installed: the run was traced by the Python witness only")  # pragma: no cover
    for log in ("strace-run.log", "strace-ui.log"):
        text = (probe.root / log).read_text(encoding="utf-8", errors="replace")
        assert "connect(" in text, f"{log}: the trace saw no connection at all, not even over unix sockets"
        calls = network_calls(probe.root / log)
        outside = [c for c in calls if c[0] == "unparsed" or not is_loopback(c[2]) or c[1] == 53]
        assert not outside, (log, outside[:10])
    assert ("AF_INET", 9, "127.0.0.1") in network_calls(probe.root / "strace-run.log")  # the webhook


# --------------------------------------------------------------------------- 4: one naming rule

_RENAME = re.compile(r'\brename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"')


def test_4_every_file_the_run_writes_in_the_home_gets_its_name_from_a_temporary_file(probe: Probe) -> None:
    """Nothing of ours is written in place: each file the run wrote in raw/, parquet/ and the published
    warehouse was renamed into place from a temporary file named by the one rule."""
    home = probe.home
    renamed: dict[str, str] = {}
    for line in (probe.root / "strace-run.log").read_text(encoding="utf-8", errors="replace").splitlines():
        m = _RENAME.search(line)
        if m and "= -1 " not in line and m.group(2).startswith(f"{home}/"):
            renamed[m.group(2)[len(str(home)) + 1:]] = Path(m.group(1)).name
    started = probe.offline["run_started"]
    written = [str(f.relative_to(home)) for f in [*(home / "raw").rglob("*"), *(home / "parquet").iterdir(),
                                                  home / "warehouse.duckdb"]
               if f.is_file() and f.stat().st_mtime >= started]  # (a failed run just before wrote some raw copies)
    in_place = [f for f in written if not TEMP_NAME.match(renamed.get(f, ""))]
    assert not in_place, in_place
    finals = set(written)
    assert {"parquet/inventory.parquet", "parquet/reports-000001.parquet", "parquet/cells-000001.parquet",
            "parquet/quality_issues.parquet", "parquet/quality_judged.parquet", "parquet/agency_links.parquet",
            "warehouse.duckdb"} <= finals
    raw = [f for f in finals if f.startswith("raw/")]  # those the failed run B had not copied
    assert raw and {renamed[f].split(".")[1] for f in raw} == {"incoming"}
    # the commit journal too: renamed into place, then removed once applied
    assert TEMP_NAME.match(renamed[f"parquet/{parts.JOURNAL}"])


# --------------------------------------------------------------------------- 3: the published warehouse


def test_3_a_writer_that_died_beside_the_published_warehouse_does_not_break_it(tmp_path: Path) -> None:
    from orchestration.publish import PUBLISHED_MODE, publish_warehouse, wal_path

    first, second, target = tmp_path / "first.duckdb", tmp_path / "second.duckdb", tmp_path / "warehouse.duckdb"
    small_duckdb(first)
    shutil.copy(first, second)
    with duckdb.connect(str(second)) as con:  # the next build: more data, another checkpoint
        con.execute("create table more as select range as n from range(1000)")
    publish_warehouse(first, target)
    assert target.stat().st_mode & 0o777 == PUBLISHED_MODE
    writer = subprocess.Popen([sys.executable, "-c", f"""
import duckdb, sys, time
con = duckdb.connect({str(target)!r})  # read-write, by habit (root is not stopped by the file's mode)
con.execute("create table mine as select 1 as x")
con.execute("insert into mine values (2)")
print("written", flush=True)
time.sleep(600)
"""], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "written"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert wal_path(target).exists()  # what the dead client left beside the published file

    publish_warehouse(second, target)
    assert not wal_path(target).exists()
    with duckdb.connect(str(target), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert tables == {"t", "more"}  # the new build, nothing of the dead client's log
    assert target.stat().st_mode & 0o777 == PUBLISHED_MODE


@pytest.fixture
def shared_dir() -> Path:
    """A folder another user can reach (pytest's own are private to their owner)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ogi-shared-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _duckdb_for_others(folder: Path) -> Path:
    """duckdb's package where another user can import it (linked, or copied across file systems):
    the venv may sit in a folder only its owner may enter, such as a clone in ``mktemp -d``."""
    import duckdb

    site, dest = Path(duckdb.__file__).parent.parent, folder / "site"
    dest.mkdir()

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for package in [site / "duckdb", *site.glob("duckdb-*.dist-info")]:  # (its version is read from its metadata)
        shutil.copytree(package, dest / package.name, copy_function=link)
    for library in site.glob("_duckdb*.so"):
        link(str(library), str(dest / library.name))
    return dest


def test_3_the_published_warehouse_cannot_be_opened_for_writing_by_accident(shared_dir: Path) -> None:
    from orchestration.publish import publish_warehouse

    build, target = shared_dir / "build.duckdb", shared_dir / "home" / "warehouse.duckdb"
    small_duckdb(build)
    publish_warehouse(build, target)
    (shared_dir / "home").chmod(0o777)  # the analyst may write beside it (a .wal, a spill folder), not to it
    as_user = [] if os.geteuid() else ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {**os.environ, "PYTHONPATH": str(_duckdb_for_others(shared_dir))}
    out = subprocess.run(as_user + [sys.executable, "-c", f"""
import duckdb
try:
    duckdb.connect({str(target)!r})
    print("opened for writing")
except duckdb.Error as exc:
    print("refused:", exc)
print(duckdb.connect({str(target)!r}, read_only=True).execute("select count(*) from t").fetchone()[0])
"""], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    refused, count = out.stdout.splitlines()
    assert refused.startswith("refused:") and "Permission denied" in refused
    assert count == "60000"


# --------------------------------------------------------------------------- 5 and 4: kill -9


def _tree(root: int) -> dict[int, bytes]:
    """``root``'s descendants (not ``root``): pid -> its /proc start time, to tell a reused pid."""
    parents: dict[int, int] = {}
    started: dict[int, bytes] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rindex(b")") + 2:].split()
            parents[int(entry.name)] = int(fields[1])
            started[int(entry.name)] = fields[19]
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in out:
                out[child] = started[child]
                todo.append(child)
    return out


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int, start: bytes) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    fields = stat[stat.rindex(b")") + 2:].split()
    return fields[19] == start and fields[0] != b"Z"


#: Worker processes a run starts besides its parse workers (the gate's and the charts').
SIDE_PROCESSES = 2


def test_5_4_kill_9_while_workers_parse_leaves_no_process_and_the_next_run_heals(probe: Probe,
                                                                                 tmp_path: Path) -> None:
    """Last in the module: it goes on with the probe's home (the dbt project is parsed for it already)."""
    from ingestion import PARSER_VERSION, parse_run
    from ingestion.parse import parse_file
    from ingestion.synthetic.synth import write_corpus

    write_corpus(tmp_path / "corpus", 900, seed=7)  # four slices: a part waits while others parse
    home, system_tmp = probe.home, tmp_path / "tmp"
    system_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(system_tmp), OGI_PARSE_WORKERS="2", COLUMNS="200")
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen([OGI, "run", "--inbox", str(tmp_path / "corpus" / "reports"), "--home", str(home)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 300
    while True:  # the moment: two workers parse, and a part is written under its temporary name
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "killed.log").read_text()
        tree = _tree(proc.pid)
        # the fork server's children: the two parse workers, and the run's two side processes (the
        # gate's and the charts', orchestration/side_process.py), alive from the run's start
        workers = [pid for pid in tree if _parent(pid) != proc.pid and b"forkserver" in _cmdline(pid)]
        parts_written = [t for t in (home / "parquet").glob(".*.tmp") if not t.name.startswith(".inventory.")] \
            if (home / "parquet").is_dir() else []
        if len(workers) >= 2 + SIDE_PROCESSES and parts_written:
            break
        time.sleep(0.02)
    assert list(system_tmp.glob("pymp-*"))  # the run's multiprocessing folder, there while it runs
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = time.monotonic()
    while any(_alive(pid, start) for pid, start in tree.items()) and time.monotonic() - killed_at < 10:
        time.sleep(0.1)
    assert not [pid for pid, start in tree.items() if _alive(pid, start)], "processes outlived the killed run"
    assert not list(system_tmp.glob("pymp-*"))  # removed by the fork server as it exited
    assert list((home / "parquet").glob(".*.tmp"))  # the half-written parts it left

    repaired = subprocess.run([OGI, "repair", "--home", str(home)], capture_output=True, text=True,
                              env=env, timeout=600)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert re.search(r"repaired removed \d+ temporary files", repaired.stdout) or \
        "repaired .commit.json" in repaired.stdout, repaired.stdout
    assert "parsed 900 reports" in repaired.stdout  # the new reports, from HOME/raw
    assert not [p for p in home.rglob("*") if final_name(p.name)]

    # the tables are those of a clean run
    clean = tmp_path / "clean"
    shutil.copytree(home / "raw", clean / "raw")
    (clean / "parquet").mkdir()
    shutil.copy(home / "parquet" / "inventory.parquet", clean / "parquet")
    pending = parse_run.plan_parse(clean / "parquet" / "inventory.parquet", clean / "raw", {}, PARSER_VERSION)
    parse_run.parse_pending(pending, raw_dir=clean / "raw", parquet_dir=clean / "parquet", parse=parse_file,
                            parser_version=PARSER_VERSION, workers=2)

    def content(parquet_dir: Path) -> dict[str, list]:
        return {n: sorted(repr({k: v for k, v in r.items() if k != "parsed_at"})
                          for r in parts.read_parsed(parquet_dir, n).to_pylist()) for n in parts.PARSED_TABLES}

    assert content(home / "parquet") == content(clean / "parquet")
