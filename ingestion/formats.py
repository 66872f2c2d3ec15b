"""File formats: recognise a file from its bytes and turn it into lines.

The format is read from the content (magic bytes), never from the extension: a
PDF named ``.txt`` is read as a PDF, binary junk named ``.txt`` is refused.
Each reader returns the document's :class:`~ingestion.layouts.Line` stream and
its plain text (for the title, dates and 索引号).
"""
from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from .layouts import Line, table_rows_lines, text_lines
from .record import ErrorKind

#: Per-file limits: the defaults of :func:`read_docx` and :func:`read_pdf`.
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_PDF_PAGES = 200
#: Text and HTML files larger than this are refused unread: a report's page is well under
#: 1 MB, and reading text costs about 13 times its size in memory (150 MB of text: 2 GB).
MAX_TEXT_BYTES = 32 * 1024 * 1024


def text_too_large(size: int, fmt: str = "text") -> FormatError:
    """The error of a text or HTML file of ``size`` bytes, over :data:`MAX_TEXT_BYTES`."""
    kind = "an HTML page" if fmt == "html" else "a text file"
    return FormatError(f"{kind} of {size / 1048576:.0f} MB, over the {MAX_TEXT_BYTES // 1048576} MB limit for "
                       "text and HTML (a report is far smaller)", ErrorKind.TOO_LARGE)


class FormatError(Exception):
    """The bytes are not a readable report file; the message says why, ``kind`` what sort of
    failure it is (:class:`~ingestion.record.ErrorKind`: unreadable, or over a limit)."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)

    def __reduce__(self) -> tuple:
        return type(self), (str(self), self.kind)


@dataclass
class Document:
    """A file read into lines and plain text.

    ``fallback`` is a second reading of the same file (a PDF read as ruled tables
    has its plain-text reading here), tried when the first cannot be parsed cleanly.
    """

    fmt: str
    lines: list[Line]
    text: str
    fallback: "Document | None" = None
    #: the lines are crawler text whose cells are glued together (runs of digits to split)
    glued: bool = False


_HTML_HINT = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|div|meta|p)\b", re.IGNORECASE)


def sniff_format(data: bytes | str | os.PathLike[str]) -> str:
    """The format of a file from its first bytes: pdf, docx, doc, zip, html, text, image or unknown.

    ``data`` is the file's bytes, or the path of the file: then only its first bytes and,
    for a ZIP archive, its table of contents are read.
    """
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as fh:
            head = fh.read(4096)
            if not head.startswith(b"PK\x03\x04"):
                return sniff_format(head)
            try:
                with zipfile.ZipFile(fh) as zf:
                    names = set(zf.namelist())
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                return "unknown"
            return "docx" if "word/document.xml" in names else "zip"
    head = data[:4096]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, EOFError):
            return "unknown"
        if "word/document.xml" in names:
            return "docx"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"  # OLE2: legacy .doc / .wps
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if _HTML_HINT.search(stripped[:2048]) and stripped[:1] == b"<":
        return "html"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "unknown"
    return "text"


#: What every report is about, in its title and its table-3 heading (see decode_text).
_REPORT_SUBJECT = "政府信息公开"


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM) when valid, else the detected encoding.

    GB18030/GBK pages are common; charset-normalizer decides among the
    candidates rather than assuming one, unless a strict GB18030 reading
    already reads as a report.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Fast path for the common GB18030 page: detection costs more than parsing the page.
    # Valid GB18030 alone proves nothing (most Big5 and much Latin-1 is valid GB18030 too),
    # but a strict GB18030 reading that spells out what the report is about is the reading
    # detection settles on as well; anything else still goes to detection.
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        if _REPORT_SUBJECT in text:
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "big5", "utf_16", "utf_8"]).best()
    if best is not None:
        text = str(best)
        if best.encoding in ("gb18030", "gbk", "gb2312"):
            return data.decode("gb18030", errors="strict") if _strict_ok(data, "gb18030") else text
        return text
    if _strict_ok(data, "gb18030"):
        return data.decode("gb18030")
    raise FormatError("text in an unknown encoding (not UTF-8 or GB18030)", ErrorKind.UNREADABLE)


def _strict_ok(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_text(data: bytes) -> Document:
    """A plain-text report in any text layout."""
    text = decode_text(data)
    if _looks_binary(text):
        raise FormatError("binary content, not a text report", ErrorKind.UNREADABLE)
    return Document("text", text_lines(text), text)


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def _looks_binary(text: str) -> bool:
    """Control characters in more than 2% of the text: binary content that happened to decode."""
    sample = text[:20000]
    return bool(sample) and len(_CONTROL.findall(sample)) / len(sample) > 0.02


# A page Word saved as HTML (its Office namespaces, its paragraph class)
_WORD_HTML = re.compile(r"urn:schemas-microsoft-com:office|class=\"?MsoNormal")
# The <meta> tags in which Chinese government CMSs (TRS and others) name an article's title,
# date and source, as the header lines a saved page or crawler record prints them with.
_META_FIELDS = {"articletitle": "标题", "pubdate": "发布时间", "contentsource": "来源"}

_BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li tr td th title section article header footer ul ol dt dd blockquote pre".split()
)


def _string(el, tostring) -> str:
    """The text content of an element: its string value, as lxml.html's ``text_content`` (XPath
    ``string()``) reads it, from libxml2's serialiser at a third of the cost."""
    return tostring(el, method="text", encoding=str, with_tail=False)


def _drop_tree(el) -> None:
    """Remove an element and its children, keeping its tail text (lxml.html's ``drop_tree``)."""
    parent = el.getparent()
    assert parent is not None
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def read_html(data: bytes) -> Document:
    """An HTML page: its tables row by row (cells as printed, rowspan/colspan not expanded), the rest as text.

    lxml's HTML parser never fetches anything; scripts and styles are dropped
    before any text is read.
    """
    from lxml import etree
    from lxml.etree import tostring

    text = decode_text(data)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input that declares an encoding
    # lxml's own HTML parser, not lxml.html's: the same tree, without a Python-level class
    # lookup for every element touched (most of the reading time on a page of tables).
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True)
    try:
        root = etree.fromstring(text, parser)
        if root is None:  # as lxml.html.document_fromstring reports it
            raise etree.ParserError("Document is empty")
    except (etree.ParserError, ValueError) as exc:
        raise FormatError(f"HTML that cannot be read ({exc})", ErrorKind.UNREADABLE) from None
    # (element iteration, in document order as the XPath union was, at a fifth of its cost)
    for bad in list(root.iter("script", "style", "noscript", "template")):
        _drop_tree(bad)
    if _WORD_HTML.search(text, 0, 5000) is not None:
        # Word's "save as web page" wraps its source lines inside the text (a label broken
        # over two lines); in HTML a line break in text is a space
        for el in root.iter():
            if el.text and "\n" in el.text:
                el.text = el.text.replace("\r", "").replace("\n", " ")
            if el.tail and "\n" in el.tail:
                el.tail = el.tail.replace("\r", "").replace("\n", " ")
    # what a CMS says of the article in its <meta> tags, ahead of the page's own text for the metadata
    fields = []
    for el in root.iter("meta"):
        label = _META_FIELDS.get(str(el.get("name") or "").lower())
        content = (el.get("content") or "").strip()
        if label and content:
            fields.append(f"{label}：{content}")
    tables: list[list[Line]] = []
    table_texts: list[str] = []
    # Data tables are the innermost ones: many sites lay a whole page out in an outer
    # table whose cells hold the report, its tables nested inside.
    for table in [t for t in root.iter("table") if t.find(".//table") is None]:
        rows = []
        for tr in table.iter("tr"):
            # a cell that holds text only is its .text; one with markup inside, its string value
            rows.append([(cell.text or "") if not len(cell) else _string(cell, tostring)
                         for cell in tr.iterchildren("td", "th")])
        tables.append(table_rows_lines(rows, len(tables) + 1))
        table_texts.append("\n".join(" | ".join(row) for row in rows))
        marker = etree.Element("p")
        marker.text = f"\ue000TABLE{len(tables) - 1}\ue000"
        marker.tail = table.tail
        table.getparent().replace(table, marker)
    for el in root.iter(*_BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    plain = _string(root, tostring)
    lines: list[Line] = []
    chunks = re.split("\ue000TABLE(\\d+)\ue000", plain)
    offset = 0
    for i, chunk in enumerate(chunks):
        if i % 2:
            lines.extend(tables[int(chunk)])
        else:
            # outside a table an NBSP is a space: a paragraph of &nbsp; is no blank cell
            part = text_lines(chunk.replace("\xa0", " ") if "\xa0" in chunk else chunk,
                              where=lambda n, o=offset: f"line {n + o}")
            lines.extend(part)
            offset += chunk.count("\n")
    # the page's text for metadata, tables included (a 发文机关 often stands in a table)
    text_with_tables = re.sub("\ue000TABLE(\\d+)\ue000", lambda m: table_texts[int(m.group(1))], plain)
    if fields:
        text_with_tables = "\n".join(fields) + "\n" + text_with_tables
    return Document("html", lines, text_with_tables)


def _too_large_docx(total: int, limit: int) -> FormatError:
    return FormatError(f"Word file expands to {total // (1024 * 1024)} MB, over the {limit // (1024 * 1024)} MB limit",
                       ErrorKind.TOO_LARGE)


#: Bytes decompressed at a time when a Word file's members are measured.
_INFLATE_STEP = 1024 * 1024


def _expanded_size(data: bytes, info: zipfile.ZipInfo, budget: int) -> int:
    """What a member of a ZIP archive really expands to, at most ``budget`` + 1 bytes (then stops).

    Measured by inflating its compressed bytes a step at a time, so that neither the sizes
    its headers declare (an attacker writes what they like there) nor the file's real size
    can make this take more memory than a step.  Raises ``zipfile.BadZipFile`` when the
    member cannot be read.
    """
    start = info.header_offset
    if data[start:start + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename!r}")
    name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_len + extra_len
    compressed = memoryview(data)[begin:begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return len(compressed)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"{info.filename!r} is compressed with method {info.compress_type}, "
                                 "which Word does not write")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    for offset in range(0, len(compressed), _INFLATE_STEP):
        pending = bytes(compressed[offset:offset + _INFLATE_STEP])
        while pending:
            try:
                out = inflater.decompress(pending, _INFLATE_STEP)
            except zlib.error as exc:
                raise zipfile.BadZipFile(f"{info.filename!r}: {exc}") from None
            total += len(out)
            if total > budget:
                return total
            pending = inflater.unconsumed_tail
        if inflater.eof:
            break
    return total


def check_docx_size(data: bytes, max_uncompressed: int = MAX_DOCX_UNCOMPRESSED) -> None:
    """Refuse a Word file that expands past ``max_uncompressed`` bytes, or whose members expand
    to another size than their headers declare (the reader trusts those and would read on).

    Raises :class:`FormatError`; memory stays at a step of :data:`_INFLATE_STEP` bytes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise FormatError(f"broken Word file ({exc})", ErrorKind.UNREADABLE) from None
    declared = sum(info.file_size for info in infos)
    if declared > max_uncompressed:
        raise _too_large_docx(declared, max_uncompressed)
    total = 0
    for info in infos:
        try:
            size = _expanded_size(data, info, max_uncompressed - total)
        except (zipfile.BadZipFile, struct.error) as exc:
            raise FormatError(f"broken Word file ({exc})", ErrorKind.UNREADABLE) from None
        total += size
        if total > max_uncompressed:
            limit = max_uncompressed // (1024 * 1024)
            raise FormatError(f"Word file expands to more than {limit} MB (its headers declare "
                              f"{declared // (1024 * 1024)} MB), over the {limit} MB limit", ErrorKind.TOO_LARGE)
        if size != info.file_size:
            raise FormatError(f"broken Word file ({info.filename} declares {info.file_size} bytes but expands to "
                              f"{size})", ErrorKind.UNREADABLE)


def read_docx(data: bytes, max_uncompressed: int = MAX_DOCX_UNCOMPRESSED) -> Document:
    """A Word .docx: paragraphs and tables in body order; merged cells read once."""
    check_docx_size(data, max_uncompressed)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for broken packages
        raise FormatError(f"broken Word file ({type(exc).__name__}: {exc})", ErrorKind.UNREADABLE) from None
    lines: list[Line] = []
    texts: list[str] = []
    body = document.element.body
    table_no = 0
    para_no = 0
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para_no += 1
            text = Paragraph(child, document).text
            texts.append(text)
            lines.extend(text_lines(text, where=lambda n, p=para_no: f"paragraph {p}"))
        elif tag == "tbl":
            table_no += 1
            rows = []
            for row in Table(child, document).rows:
                seen: set[int] = set()
                pieces = []
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue  # a horizontally merged cell repeats: read it once
                    seen.add(id(cell._tc))
                    pieces.append(cell.text)
                rows.append(pieces)
                texts.append(" | ".join(pieces))
            lines.extend(table_rows_lines(rows, table_no))
    return Document("docx", lines, "\n".join(texts))


def _pdf_error(exc: Exception) -> FormatError:
    """A clear error for whatever pdfminer/pdfplumber raised (they wrap their causes in ``args``)."""
    causes = [exc] + [a for a in exc.args if isinstance(a, BaseException)]
    names = " ".join(type(c).__name__ for c in causes)
    if "Password" in names or "Encrypt" in names:
        return FormatError("encrypted PDF: cannot read it without its password", ErrorKind.UNREADABLE)
    detail = "; ".join(f"{type(c).__name__}: {c}".rstrip(": ") for c in causes[-1:])
    return FormatError(f"broken PDF ({detail})", ErrorKind.UNREADABLE)


def _pdf_table_lines(page, p: int) -> list[Line] | None:
    """A page read as its ruled tables (cell by cell, merged cells once) plus the text around them.

    None when the page has no ruled table.  Table cells keep empty cells as
    blanks, which the plain text of a PDF loses.
    """
    tables = page.find_tables()
    if not tables:
        return None
    boxes = [t.bbox for t in tables]

    def outside(obj: dict) -> bool:
        if obj.get("object_type") != "char":
            return True
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    items: list[tuple[float, list[Line]]] = []
    for n, line in enumerate(page.filter(outside).extract_text_lines(), start=1):
        items.append((line["top"], text_lines(line["text"], where=lambda _i, n=n: f"page {p} line {n}")))
    for t, table in enumerate(tables, start=1):
        rows = [
            ["".join((cell or "").split("\n")) for cell in row if cell is not None]
            for row in table.extract()
        ]
        lines = table_rows_lines(rows, t, prefix=f"page {p} ")
        items.append((table.bbox[1], lines))
    items.sort(key=lambda item: item[0])
    return [line for _, lines in items for line in lines]


# What a PDF's text layer reads as when its fonts carry no Unicode map: pdfminer's "(cid:N)" for
# each glyph, or the font's codes taken for Latin-1 / symbols / private-use characters.
_CID = re.compile(r"\(cid:\d+\)")
# Characters a Chinese report is written in: CJK ideographs and punctuation, full-width forms, ASCII.
_READABLE = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2014-\u201d\u2026\u00b7\x20-\x7e\\s]")
_CJK = re.compile("[\u4e00-\u9fff]")
#: The most frequent characters of these reports (and of Chinese prose): more than half of the
#: ideographs of a real report, about 1% of ideographs drawn at random (a font whose glyph codes
#: were taken for Unicode ideographs).
_FREQUENT = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合"
    "还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只"
    "没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求府信息申请")


def text_layer_garbled(text: str) -> bool:
    """Whether a PDF's extracted text is no text at all: mostly "(cid:N)" codes, characters no
    Chinese report is written in (mojibake), or ideographs in no reading order (a sample of the
    first 50,000 characters)."""
    sample = text[:50000]
    cids = len(_CID.findall(sample))
    if cids:
        sample = _CID.sub("", sample)
    glyphs = sum(1 for ch in sample if not ch.isspace()) + cids
    if glyphs < 50:
        return cids > glyphs / 2
    unreadable = len(_READABLE.sub("", sample)) + cids
    if unreadable > 0.3 * glyphs:
        return True
    ideographs = _CJK.findall(sample)
    if len(ideographs) < 200:
        return False
    return sum(1 for ch in ideographs if ch in _FREQUENT) < 0.2 * len(ideographs)


def read_pdf(data: bytes, max_pages: int = MAX_PDF_PAGES) -> Document:
    """A PDF with a text layer, read with pdfplumber.

    Pages with ruled tables are read table by table (``find_tables``), the rest
    as positioned text; the plain-text reading of every page is kept as the
    fallback, for tables drawn without rules.
    """
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises PDFSyntaxError, PDFPasswordIncorrect, ...
        raise _pdf_error(exc) from None
    text_route: list[Line] = []
    table_route: list[Line] = []
    any_table = False
    texts: list[str] = []
    try:
        with pdf:
            if len(pdf.pages) > max_pages:
                raise FormatError(f"PDF has {len(pdf.pages)} pages, over the {max_pages}-page limit",
                                  ErrorKind.TOO_LARGE)
            for p, page in enumerate(pdf.pages, start=1):
                try:
                    page_text = page.extract_text() or ""
                    texts.append(page_text)
                    page_lines = text_lines(page_text, where=lambda n, p=p: f"page {p} line {n}")
                    text_route.extend(page_lines)
                    if not page_text.strip():
                        continue
                    tabled = _pdf_table_lines(page, p)
                    any_table = any_table or tabled is not None
                    table_route.extend(page_lines if tabled is None else tabled)
                finally:
                    # a page's characters, lines and layout stay cached on it until closed: without
                    # this, memory grows with every page read (1.7 GB for a dense 190-page file)
                    page.close()
    except FormatError:
        raise
    except Exception as exc:
        raise _pdf_error(exc) from None
    text = "\n".join(texts)
    if not text.strip():
        raise FormatError("PDF has no text layer (a scanned image?); it needs OCR", ErrorKind.UNREADABLE)
    if text_layer_garbled(text):
        raise FormatError("PDF text layer cannot be read (its fonts have no Unicode map: the text reads as "
                          "(cid:N) codes or mojibake); the report needs OCR", ErrorKind.UNREADABLE)
    plain = Document("pdf", text_route, text)
    if not any_table:
        return plain
    return Document("pdf", table_route, text, fallback=plain)


def read_document(data: bytes) -> Document:
    """Read any supported file from its bytes."""
    if not data:
        raise FormatError("empty file", ErrorKind.UNREADABLE)
    fmt = sniff_format(data)
    if fmt == "pdf":
        return read_pdf(data)
    if fmt == "docx":
        return read_docx(data)
    if fmt in ("html", "text") and len(data) > MAX_TEXT_BYTES:
        raise text_too_large(len(data), fmt)
    if fmt == "html":
        return read_html(data)
    if fmt == "text":
        return read_text(data)
    if fmt == "doc":
        raise FormatError("legacy Word .doc/.wps file: convert it to .docx or PDF", ErrorKind.UNREADABLE)
    if fmt == "image":
        raise FormatError("an image has no text layer; it needs OCR", ErrorKind.UNREADABLE)
    if fmt == "zip":
        raise FormatError("a ZIP archive, not a report (unpack it into the inbox)", ErrorKind.UNREADABLE)
    raise FormatError("binary content, not a text, HTML, PDF or Word report", ErrorKind.UNREADABLE)
