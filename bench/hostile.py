"""The hostile set of the fault probe: files built to take a parser's memory, and an inbox that leads out of itself.

``python bench/hostile.py [OUT]`` builds it (``bench/run.py`` does, for its "hostile set"
scenario, and measures ``ogi run`` on it):

* ``liar.docx``: 1 MB whose ``word/document.xml`` expands to 1 GB while its headers say
  1,000 bytes (the size check used to trust the headers: 2.1 GB);
* ``long.txt``: 150 MB of report text, under the 200 MB file limit (2.8 GB);
* ``dense.pdf``: 190 pages of ruled tables, 1,120 cells a page (1.7 GB);
* ``table.html``: 31 MB, one table of 1.6 million cells, under the 32 MB text limit:
  it needs more than a parse worker's ceiling (1 GiB) and is refused by it;
* links to ``/etc/passwd`` and to a folder outside the inbox, a named pipe, a folder
  named ``x.pdf``, and the sample reports.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import struct
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def understated_docx(path: Path, expanded_mb: int = 1024) -> None:
    """A .docx whose document.xml expands to ``expanded_mb`` MB; its headers declare 1,000 bytes."""
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("政府信息公开工作年度报告")
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
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
    data = bytearray(path.read_bytes())
    name = b"word/document.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + length] == name:
            struct.pack_into("<I", data, at + 24, 1000)
            struct.pack_into("<I", data, struct.unpack_from("<I", data, at + 42)[0] + 22, 1000)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def dense_pdf(path: Path, pages: int = 190) -> None:
    """``pages`` pages, each a ruled table of 80 rows by 14 columns of numbers."""
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


def build(out: Path) -> Path:
    """The hostile inbox in ``out/inbox`` (rebuilt each time); the inbox."""
    inbox = out / "inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    shutil.copytree(REPO / "orchestration" / "samples", inbox)
    understated_docx(inbox / "liar.docx")
    text = (REPO / "orchestration" / "samples" / "hzq2024.txt").read_bytes()
    with open(inbox / "long.txt", "wb") as fh:
        for _ in range(150 * 1024 * 1024 // len(text)):
            fh.write(text)
    dense_pdf(inbox / "dense.pdf")
    row = "<tr>" + "<td>1</td>" * 20 + "</tr>\n"
    (inbox / "table.html").write_text("<html><body><p>政府信息公开工作年度报告</p><table>"
                                      + row * (31 * 2**20 // len(row)) + "</table></body></html>")
    outside = out / "outside"
    outside.mkdir(exist_ok=True)
    os.symlink("/etc/passwd", inbox / "passwd.txt")
    os.symlink(outside, inbox / "outside")
    os.mkfifo(inbox / "pipe.txt")
    (inbox / "x.pdf").mkdir()
    return inbox


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "bench" / "out" / "hostile")))
