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

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingestion.synthetic.hostile import dense_pdf, understated_docx  # noqa: E402


def build(out: Path) -> Path:
    """The hostile inbox in ``out/inbox`` (rebuilt each time); the inbox."""
    inbox = out / "inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    shutil.copytree(REPO / "orchestration" / "samples", inbox)
    (inbox / "liar.docx").write_bytes(understated_docx(1024, compresslevel=9))
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
