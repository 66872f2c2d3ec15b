"""Bad input gets a clear error naming the file and what is wrong, never a crash."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.parse import parse_bytes, parse_file
from ingestion.record import ParseError

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seeds" / "000_f1db75d64b6a785a.txt"


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
    with pytest.raises(ParseError, match="file not found"):
        parse_file("/nonexistent/report.txt")


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
    assert objs[0]["error"].endswith("a_empty.txt: empty file")
    assert objs[1]["agency"] == "安源区商务局" and "error" not in objs[1]
    assert "binary" in objs[2]["error"]


def test_cli_exit_zero_and_exact_keys_when_all_parse() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "parse", str(SEED)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    allowed = {"source", "agency", "year", "template", "applications", "reviews", "proactive",
               "published", "index_number", "division_code", "warnings"}
    assert set(obj) <= allowed and {"applications", "reviews", "proactive"} <= set(obj)
