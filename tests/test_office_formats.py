"""PDF and Word reports, and hostile input: a record or a clear error, never a crash or a hang."""
from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.formats import FormatError, read_pdf, sniff_format
from ingestion.parse import parse_bytes, parse_file
from ingestion.record import ErrorKind, ParseError, Report
from ingestion.synthetic.render_office import report_to_docx, report_to_pdf, text_to_pdf

from fixture_paths import FIXTURES, SAMPLES, SEEDS

GOLDENS = sorted((FIXTURES / "golden").glob("*.json")) + sorted((FIXTURES / "realworld" / "golden").glob("*.txt.json"))
CONTRACT = ("agency", "year", "template", "applications", "reviews", "proactive")


def _contract(obj: dict) -> dict:
    return {k: obj[k] for k in CONTRACT}


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
def test_docx_roundtrip(golden: Path) -> None:
    expected = json.loads(golden.read_text(encoding="utf-8"))
    data = report_to_docx(Report.from_json(expected))
    assert sniff_format(data) == "docx"
    assert _contract(parse_bytes(data, "r.docx").to_json()) == _contract(expected)


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
def test_ruled_table_pdf_roundtrip(golden: Path) -> None:
    # ruled tables keep blank cells (seed 003 has many) that a PDF's plain text loses
    expected = json.loads(golden.read_text(encoding="utf-8"))
    data = report_to_pdf(Report.from_json(expected))
    assert sniff_format(data) == "pdf"
    assert _contract(parse_bytes(data, "r.pdf").to_json()) == _contract(expected)


@pytest.mark.parametrize("seed", ["000_f1db75d64b6a785a", "001_1cb59e66f00bcffe", "002_6379e42c8043a5dd"])
def test_pdf_with_text_layer_roundtrip(seed: str) -> None:
    text = (SAMPLES / f"{seed}.txt").read_text(encoding="utf-8")
    expected = json.loads((FIXTURES / "golden" / f"{seed}.json").read_text(encoding="utf-8"))
    got = parse_bytes(text_to_pdf(text), f"{seed}.pdf").to_json()
    assert _contract(got) == _contract(expected)


def test_format_comes_from_content_not_extension(tmp_path: Path) -> None:
    pdf = (FIXTURES / "realworld" / "hzq2024.pdf").read_bytes()
    disguised = tmp_path / "report.txt"
    disguised.write_bytes(pdf)
    expected = json.loads((FIXTURES / "realworld" / "golden" / "hzq2024.pdf.json").read_text(encoding="utf-8"))
    assert _contract(parse_file(disguised).to_json()) == _contract(expected)


def _error(data: bytes, name: str = "bad.bin", **kw) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse_bytes(data, name, **kw)
    assert str(info.value).startswith(f"{name}: ")
    return info.value


def _reason(data: bytes, name: str = "bad.bin", **kw) -> str:
    return _error(data, name, **kw).reason


def test_image_only_pdf_needs_ocr() -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(50, 50, 400, 600, fill=1)  # a page with graphics and no text: what a scan looks like
    c.showPage()
    c.save()
    error = _error(buf.getvalue(), "scan.pdf")
    assert "needs OCR" in error.reason and error.kind is ErrorKind.UNREADABLE


def test_encrypted_pdf() -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    enc = pdfencrypt.StandardEncryption("secret", canPrint=0)
    c = canvas.Canvas(buf, encrypt=enc)
    c.drawString(50, 800, "report")
    c.showPage()
    c.save()
    error = _error(buf.getvalue(), "locked.pdf")
    assert "encrypted" in error.reason or "needs OCR" in error.reason
    assert error.kind is ErrorKind.UNREADABLE


def test_truncated_pdf() -> None:
    pdf = (FIXTURES / "realworld" / "hzq2023.pdf").read_bytes()
    reason = _reason(pdf[: len(pdf) // 3], "cut.pdf")
    assert reason  # a clear message (broken PDF, or a table that is not there), never an exception


def test_zip_bomb_docx_is_refused_unread() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, ~300 KB packed
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024
    error = _error(data, "bomb.docx")
    assert "over the" in error.reason and error.kind is ErrorKind.TOO_LARGE


def test_pdf_over_the_page_limit_is_too_large() -> None:
    with pytest.raises(FormatError, match="over the 1-page limit") as info:
        read_pdf(text_to_pdf("\n".join(f"line {i}" for i in range(60)), lines_per_page=30), max_pages=1)
    assert info.value.kind is ErrorKind.TOO_LARGE


def test_docx_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42", encoding="utf-8")
    golden = json.loads((FIXTURES / "golden" / "002_6379e42c8043a5dd.json").read_text(encoding="utf-8"))
    data = report_to_docx(Report.from_json(golden))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "word/document.xml":
                body = body.replace(
                    b"?>", f'?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode(), 1
                ).replace("一、总体情况".encode(), "一、总体情况&xxe;".encode(), 1)
            zf.writestr(item, body)
    try:
        rec = parse_bytes(out.getvalue(), "xxe.docx")
    except ParseError as exc:
        assert "TOPSECRET" not in str(exc)
    else:
        assert "TOPSECRET" not in json.dumps(rec.to_json(provenance=True), ensure_ascii=False)


def test_html_scripts_are_ignored() -> None:
    text = (SAMPLES / "000_f1db75d64b6a785a.txt").read_text(encoding="utf-8")
    rows = "".join(
        "<tr>" + "".join(f"<td>{c.strip()}</td>" for c in line.split("|")) + "</tr>" if "|" in line else
        f"</table><p>{line}</p><table>"
        for line in text.splitlines()
    )
    html = (
        "<html><head><script>document.write('<table><tr><td>一、本年新收政府信息公开申请数量</td>"
        "<td>999</td></tr></table>')</script></head><body><table>" + rows + "</table></body></html>"
    )
    got = parse_bytes(html.encode(), "page.html").to_json()
    expected = json.loads((FIXTURES / "golden" / "000_f1db75d64b6a785a.json").read_text(encoding="utf-8"))
    assert _contract(got) == _contract(expected)


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:
        fh.truncate(3 * 1024 * 1024)  # sparse: 3 MB on paper, nothing on disk
    with pytest.raises(ParseError, match="over the 1 MB limit") as info:
        parse_file(big, max_bytes=1024 * 1024)
    assert info.value.kind is ErrorKind.TOO_LARGE


def test_time_limit_cuts_a_slow_parse() -> None:
    pdf = (FIXTURES / "realworld" / "szfgs2024.pdf").read_bytes()
    started = time.monotonic()
    error = _error(pdf, "slow.pdf", timeout_s=0.01)
    assert "limit" in error.reason and error.kind is ErrorKind.TIMEOUT and error.kind.counts_as_parse_failure
    assert time.monotonic() - started < 5


REAL_FILES = [p.read_bytes() for p in sorted((FIXTURES / "realworld").glob("*.pdf"))] + [p.read_bytes() for p in SEEDS]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(REAL_FILES)))
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_mutated())
def test_fuzz_mutated_real_files_give_a_record_or_a_clear_error(data: bytes) -> None:
    started = time.monotonic()
    try:
        rec = parse_bytes(data, "fuzz.bin", timeout_s=20)
    except ParseError as exc:
        assert exc.reason and "internal parser error" not in exc.reason, exc.reason
        assert exc.kind is not ErrorKind.PARSER_ERROR
    else:
        json.dumps(rec.to_json())
    assert time.monotonic() - started < 25


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data: bytes) -> None:
    try:
        parse_bytes(data, "junk.txt", timeout_s=10)
    except ParseError as exc:
        assert exc.reason and "internal parser error" not in exc.reason, exc.reason
