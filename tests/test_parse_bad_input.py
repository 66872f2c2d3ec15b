"""Bad input gets a clear error naming the file and what is wrong, never a crash."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ingestion.parse as parse_module
from ingestion.parse import parse_bytes, parse_file
from ingestion.record import NOT_PARSE_FAILURES, ErrorKind, ParseError

from fixture_paths import SAMPLES

SEED = SAMPLES / "000_f1db75d64b6a785a.txt"


def _error(data: bytes, name: str = "bad.txt") -> str:
    with pytest.raises(ParseError) as info:
        parse_bytes(data, name)
    assert str(info.value).startswith(f"{name}: ")
    return info.value.reason


def test_empty_file() -> None:
    assert _error(b"") == "empty file"


def test_binary_junk_named_txt() -> None:
    junk = bytes(range(256)) * 40
    assert "binary" in _error(junk)


def test_page_with_no_report() -> None:
    page = "<html><body><h1>首页</h1><p>欢迎访问本网站</p></body></html>".encode()
    assert "table 3 not found" in _error(page, "index.html")


def test_truncated_table_3() -> None:
    text = SEED.read_text(encoding="utf-8")
    cut = text[: text.index("4.保护第三方合法权益")]
    assert "table 3 incomplete" in _error(cut.encode(), "cut.txt")


def test_wrong_encoding_latin1_noise() -> None:
    # Latin-1 bytes that are neither UTF-8 nor a report in any encoding
    data = ("Résumé année " * 200).encode("latin-1")
    reason = _error(data)
    assert "table 3 not found" in reason or "encoding" in reason


def test_legacy_word_and_images_are_refused_clearly() -> None:
    assert "convert it to .docx or PDF" in _error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.doc")
    assert "OCR" in _error(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "scan.png")


def test_missing_file() -> None:
    with pytest.raises(ParseError, match="file not found") as info:
        parse_file("/nonexistent/report.txt")
    assert info.value.kind is ErrorKind.UNREADABLE


def _zip(name: str, body: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, body)
    return buf.getvalue()


_CUT = SEED.read_text(encoding="utf-8")
_CUT = _CUT[: _CUT.index("4.保护第三方合法权益")].encode()
#: (bytes, file name, kind, whether the quality gate counts it as a parse failure)
KINDS = [
    (b"", "empty.txt", ErrorKind.UNREADABLE, False),
    (bytes(range(256)) * 40, "junk.txt", ErrorKind.UNREADABLE, False),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.doc", ErrorKind.UNREADABLE, False),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "scan.png", ErrorKind.UNREADABLE, False),
    (_zip("a.txt", b"hello"), "archive.zip", ErrorKind.UNREADABLE, False),
    (_zip("word/document.xml", b"<not xml"), "broken.docx", ErrorKind.UNREADABLE, False),
    (b"%PDF-1.4\n garbage", "broken.pdf", ErrorKind.UNREADABLE, False),
    ("<html><body><h1>首页</h1></body></html>".encode(), "index.html", ErrorKind.NOT_A_REPORT, True),
    ("政府信息公开工作年度报告\n一、总体情况\n".encode(), "prose.txt", ErrorKind.NOT_A_REPORT, True),
    (_CUT, "cut.txt", ErrorKind.INCOMPLETE_TABLE, True),
]


@pytest.mark.parametrize("data,name,kind,failure", KINDS, ids=[k[1] for k in KINDS])
def test_every_error_has_its_kind(data: bytes, name: str, kind: ErrorKind, failure: bool) -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(data, name)
    assert info.value.kind is kind, info.value.reason
    assert kind.counts_as_parse_failure is failure and (kind in NOT_PARSE_FAILURES) is not failure


@pytest.mark.parametrize("raised", [ValueError("bug"), RecursionError()])
def test_parser_errors_are_failures(raised: BaseException, monkeypatch) -> None:
    def broken(doc, source):
        raise raised

    monkeypatch.setattr(parse_module, "parse_document", broken)
    with pytest.raises(ParseError) as info:
        parse_bytes(SEED.read_bytes(), SEED.name)
    assert info.value.kind is ErrorKind.PARSER_ERROR and info.value.kind.counts_as_parse_failure


def test_running_out_of_memory_is_a_too_large_file(monkeypatch) -> None:
    """A file that needs more memory than the process may use (a parse worker's ceiling) is too large,
    like a file over the size limit: a per-file error that does not count as a parse failure."""
    def hungry(doc, source):
        raise MemoryError

    monkeypatch.setattr(parse_module, "parse_document", hungry)
    with pytest.raises(ParseError) as info:
        parse_bytes(SEED.read_bytes(), SEED.name)
    assert info.value.kind is ErrorKind.TOO_LARGE and "memory" in info.value.reason


def test_files_that_are_not_there_are_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as info:
        parse_file(tmp_path)
    assert (info.value.reason, info.value.kind) == ("is a directory", ErrorKind.UNREADABLE)
    assert ParseError("a.txt", "file is 300 MB, over the 200 MB limit", ErrorKind.TOO_LARGE).kind in NOT_PARSE_FAILURES
    assert {k.value for k in NOT_PARSE_FAILURES} == {"unreadable", "too_large"}
    assert ErrorKind.TIMEOUT.counts_as_parse_failure and ErrorKind.WORKER_DIED.counts_as_parse_failure


def test_dbt_accepts_exactly_the_error_kinds() -> None:
    """stg_parse_errors' accepted_values test lists every ErrorKind, no more."""
    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging" /
                          "_staging.yml").read_text(encoding="utf-8"))
    [model] = [m for m in doc["models"] if m["name"] == "stg_parse_errors"]
    [column] = [c for c in model["columns"] if c["name"] == "error_kind"]
    [test] = [t["accepted_values"] for t in column["data_tests"] if "accepted_values" in t]
    assert test["arguments"]["values"] == [k.value for k in ErrorKind]


def test_cli_goes_on_after_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a_empty.txt").write_bytes(b"")
    (tmp_path / "b_good.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "c_junk.txt").write_bytes(bytes(range(256)) * 10)
    out = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "parse", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(o["source"]).name for o in objs] == ["a_empty.txt", "b_good.txt", "c_junk.txt"]
    assert objs[0]["error"].endswith("a_empty.txt: empty file") and objs[0]["error_kind"] == "unreadable"
    assert set(objs[0]) == {"source", "error", "error_kind"}
    assert objs[1]["agency"] == "安源区商务局" and "error" not in objs[1]
    assert "binary" in objs[2]["error"]


def test_cli_exit_zero_and_exact_keys_when_all_parse() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "parse", str(SEED)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    allowed = {"source", "agency", "year", "template", "applications", "reviews", "proactive",
               "published", "index_number", "division_code", "year_source", "agency_source", "warnings",
               "unread", "inferred"}
    assert set(obj) <= allowed and {"applications", "reviews", "proactive", "unread", "inferred"} <= set(obj)
    assert obj["unread"] == [] and obj["inferred"] == []


def test_cli_takes_the_limits_from_the_settings() -> None:
    """``ogi parse`` passes OGI_MAX_FILE_MB to the parser (ingestion itself reads no environment)."""
    import os

    env = dict(os.environ, OGI_MAX_FILE_MB="0.001")  # about 1 KB: the seed is larger
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "parse", str(SEED)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 1, out.stderr
    obj = json.loads(out.stdout)
    assert "over the 0 MB limit" in obj["error"] and obj["error_kind"] == "too_large"
    bad = subprocess.run([sys.executable, "-m", "orchestration.cli", "parse", str(SEED)],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, OGI_FILE_TIMEOUT_S="soon"))
    assert bad.returncode == 2 and "OGI_FILE_TIMEOUT_S" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_source_is_the_path_as_given_and_a_folder_without_reports_is_an_error(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "good.txt").write_bytes(SEED.read_bytes())
    (reports / "junk.txt").write_bytes(bytes(range(256)) * 10)

    def ogi_parse(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "orchestration.cli", "parse", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    out = ogi_parse("reports/good.txt", "reports/junk.txt", "reports")
    assert out.returncode == 1
    sources = [json.loads(line)["source"] for line in out.stdout.splitlines()]
    # on success and on error alike, as given (a folder's files below the folder as given)
    assert sources == ["reports/good.txt", "reports/junk.txt", "reports/good.txt", "reports/junk.txt"]
    (tmp_path / "empty").mkdir()
    empty = ogi_parse("empty")
    assert empty.returncode == 2 and empty.stdout == "" and "empty holds no report files" in empty.stderr
    hidden = tmp_path / "only_partial"
    hidden.mkdir()
    (hidden / ".notes.txt").write_text("hidden")
    (hidden / "report.txt.part").write_text("a download in progress")
    assert ogi_parse("only_partial").returncode == 2
