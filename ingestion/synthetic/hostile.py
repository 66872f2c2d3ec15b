"""Files built to take a parser's memory: the fault probe's hostile inputs.

Used by the tests (tests/test_faults.py) and the
benchmark's hostile set (bench/hostile.py), which measure that no single file makes a
parse worker exceed its ceiling.
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path


def understated_docx(expanded_mb: int, *, compresslevel: int = 1) -> bytes:
    """A .docx whose ``word/document.xml`` expands to ``expanded_mb`` MB while its zip headers
    (the local header and the central directory) say 1,000 bytes."""
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("政府信息公开工作年度报告")
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, source.read(info))
                continue
            head, tail = source.read(info).split(b"</w:body>")
            with zf.open("word/document.xml", "w") as fh:
                fh.write(head)
                block = (b"<w:p><w:r><w:t>" + b"1" * 1000 + b"</w:t></w:r></w:p>") * 1000
                for _ in range(expanded_mb):
                    fh.write(block)
                fh.write(b"</w:body>" + tail)
    data = bytearray(out.getvalue())
    name = b"word/document.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1:  # the central directory entry and the local header: uncompressed size := 1000
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + length] == name:
            struct.pack_into("<I", data, at + 24, 1000)
            struct.pack_into("<I", data, struct.unpack_from("<I", data, at + 42)[0] + 22, 1000)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def dense_pdf(path: Path, pages: int = 190) -> None:
    """``pages`` pages, each a ruled table of 80 rows by 14 columns of numbers (needs reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    rnd = random.Random(1)
    width, height = A4
    rows, cols = 80, 14
    x0, y0 = 20, height - 30
    cw, rh = (width - 40) / cols, (height - 60) / rows
    for _ in range(pages):
        c.setFont("STSong-Light", 5)
        for r in range(rows + 1):
            c.line(x0, y0 - r * rh, x0 + cols * cw, y0 - r * rh)
        for k in range(cols + 1):
            c.line(x0 + k * cw, y0, x0 + k * cw, y0 - rows * rh)
        for r in range(rows):
            for k in range(cols):
                text = f"政府信息{rnd.randint(0, 10**6)}" if k == 0 else str(rnd.randint(0, 10**9))
                c.drawString(x0 + k * cw + 1, y0 - (r + 1) * rh + 1.5, text)
        c.showPage()
    c.save()
