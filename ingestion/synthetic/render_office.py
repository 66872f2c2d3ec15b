"""Write canonical records as Word and PDF files, the way reports are published.

Used by the tests (parse them back exactly) and by the corpus generator.  Word
files carry the form as real tables with merged cells; PDFs carry a text layer
written with the Adobe CID font STSong-Light, which needs no font file.  PDFs are
written with reportlab, an optional dependency (the ``synth`` extra): without it
the PDF writers raise :class:`~ingestion.synthetic.MissingDependency`.
"""
from __future__ import annotations

import io
from typing import Sequence

from ..record import Report
from ..templates import (
    APPLICANT_COLUMNS,
    APPLICANT_LABELS,
    APPLICATION_ROWS,
    PROACTIVE_FIELD_LABELS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_RESULT_LABELS,
    REVIEW_ROWS,
)
from . import require_pdf_writer

# Group labels of table 3's outcome rows, by outcome group, as the form prints them.
_GROUP_LABELS = {
    "denied": "（三）不予公开",
    "unavailable": "（四）无法提供",
    "rejected": "（五）不予处理",
    "split_other": "（六）其他处理",
}


def _fmt(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def report_to_docx(report: Report) -> bytes:
    """A .docx of the report: title, headings and the three tables with merged label cells."""
    import docx

    d = docx.Document()
    d.add_paragraph(f"{report.agency}{report.year}年政府信息公开工作年度报告")
    if report.published:
        d.add_paragraph(f"发布日期：{report.published}")
    d.add_paragraph("一、总体情况")
    d.add_paragraph(f"{report.year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。")
    d.add_paragraph("二、主动公开政府信息情况")
    for row in PROACTIVE_ROWS[report.template]:
        t = d.add_table(rows=2, cols=1 + len(row.fields))
        t.rows[0].cells[0].text = "信息内容"
        for j, f in enumerate(row.fields, start=1):
            t.rows[0].cells[j].text = PROACTIVE_FIELD_LABELS[f]
        t.rows[1].cells[0].text = row.label
        for j, f in enumerate(row.fields, start=1):
            t.rows[1].cells[j].text = _fmt(report.proactive.get(row.key, {}).get(f).value
                                           if report.proactive.get(row.key, {}).get(f) else None)
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    keys = list(report.applications)
    rows = [r for r in APPLICATION_ROWS if r.key in keys]
    t = d.add_table(rows=2 + len(rows), cols=3 + len(APPLICANT_COLUMNS))
    head = t.rows[0].cells
    head[0].text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    head[3].text = "申请人情况"
    head[3].merge(head[3 + len(APPLICANT_COLUMNS) - 1])
    head[0].merge(t.rows[1].cells[2])
    for j, c in enumerate(APPLICANT_COLUMNS):
        t.rows[1].cells[3 + j].text = APPLICANT_LABELS[c][0]
    outcome_rows = [i for i, r in enumerate(rows) if r.group not in ("received", "carried")]
    for i, r in enumerate(rows):
        cells = t.rows[2 + i].cells
        if r.group in ("received", "carried"):
            cells[0].text = r.label
            cells[0].merge(cells[2])
        elif r.group in ("granted", "partially_granted", "total") or r.key == "other":
            cells[1].text = r.label
            cells[1].merge(cells[2])
        else:
            cells[2].text = r.label
        for j, v in enumerate(report.applications[r.key]):
            t.rows[2 + i].cells[3 + j].text = _fmt(v.value)
    if outcome_rows:
        first, last = 2 + outcome_rows[0], 2 + outcome_rows[-1]
        t.cell(first, 0).text = "三、本年度办理结果"
        t.cell(first, 0).merge(t.cell(last, 0))
        for group in ("denied", "unavailable", "rejected", "other"):
            idx = [2 + i for i, r in enumerate(rows) if r.group == group and r.key != "other"]
            if idx:
                t.cell(idx[0], 1).text = _GROUP_LABELS["split_other" if group == "other" else group]
                t.cell(idx[0], 1).merge(t.cell(idx[-1], 1))
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t = d.add_table(rows=3, cols=15)
    t.cell(0, 0).text = "行政复议"
    t.cell(0, 0).merge(t.cell(1, 4))
    t.cell(0, 5).text = "行政诉讼"
    t.cell(0, 5).merge(t.cell(0, 14))
    t.cell(1, 5).text = "未经复议直接起诉"
    t.cell(1, 5).merge(t.cell(1, 9))
    t.cell(1, 10).text = "复议后起诉"
    t.cell(1, 10).merge(t.cell(1, 14))
    for b in range(len(REVIEW_ROWS)):
        for j, c in enumerate(REVIEW_COLUMNS):
            if b > 0:
                t.cell(2, 5 * b + j).text = REVIEW_RESULT_LABELS[c][0]
    values = t.add_row().cells
    for b, proceeding in enumerate(REVIEW_ROWS):
        for j, cell in enumerate(report.reviews[proceeding]):
            values[5 * b + j].text = _fmt(cell.value)
    d.add_paragraph("五、存在的主要问题及改进情况")
    d.add_paragraph("下一步，本机关将进一步做好政府信息公开工作。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def text_to_pdf(text: str, lines_per_page: int = 48, footer: bool = True) -> bytes:
    """A PDF whose text layer holds ``text`` line by line, A4 pages, a "- N -" footer on each."""
    require_pdf_writer()
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    width, height = A4
    lines: Sequence[str] = text.splitlines()
    for start in range(0, max(len(lines), 1), lines_per_page):
        c.setFont("STSong-Light", 9)
        y = height - 50
        for line in lines[start: start + lines_per_page]:
            c.drawString(40, y, line)
            y -= 15
        if footer:
            c.drawString(width / 2 - 10, 30, f"- {start // lines_per_page + 1} -")
        c.showPage()
    c.save()
    return buf.getvalue()


def report_to_pdf(report: Report) -> bytes:
    """A PDF of the report with the form as ruled tables (grid lines, merged label cells, empty blanks)."""
    require_pdf_writer()
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=9, leading=13)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=6.5, leading=8)

    def grid(rows: list[list[str]], spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
             widths: Sequence[float] | None = None) -> Table:
        data = [[Paragraph(v, cell) if v else "" for v in row] for row in rows]
        style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        style += [("SPAN", a, b) for a, b in spans]
        return Table(data, colWidths=widths, style=TableStyle(style))

    story: list = [Paragraph(f"{report.agency}{report.year}年政府信息公开工作年度报告", body), Spacer(1, 6)]
    if report.published:
        story.append(Paragraph(f"发布日期：{report.published}", body))
    story += [Paragraph("一、总体情况", body),
              Paragraph(f"{report.year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。", body),
              Paragraph("二、主动公开政府信息情况", body)]
    for row in PROACTIVE_ROWS[report.template]:
        fields = report.proactive.get(row.key, {})
        story.append(grid([["信息内容"] + [PROACTIVE_FIELD_LABELS[f] for f in row.fields],
                           [row.label] + [_fmt(fields[f].value if f in fields else None) for f in row.fields]]))
    story.append(Paragraph("三、收到和处理政府信息公开申请情况", body))
    rows = [r for r in APPLICATION_ROWS if r.key in report.applications]
    n = len(APPLICANT_COLUMNS)
    table = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况"] + [""] * (n - 1),
             ["", "", ""] + [APPLICANT_LABELS[c][0] for c in APPLICANT_COLUMNS]]
    spans = [((0, 0), (2, 1)), ((3, 0), (3 + n - 1, 0))]
    for i, r in enumerate(rows):
        y = 2 + i
        values = [_fmt(c.value) for c in report.applications[r.key]]
        if r.group in ("received", "carried"):
            table.append([r.label, "", ""] + values)
            spans.append(((0, y), (2, y)))
        elif r.group in ("granted", "partially_granted", "total") or r.key == "other":
            table.append(["", r.label, ""] + values)
            spans.append(((1, y), (2, y)))
        else:
            table.append(["", "", r.label] + values)
    outcome = [2 + i for i, r in enumerate(rows) if r.group not in ("received", "carried")]
    table[outcome[0]][0] = "三、本年度办理结果"
    spans.append(((0, outcome[0]), (0, outcome[-1])))
    for group in ("denied", "unavailable", "rejected", "other"):
        idx = [2 + i for i, r in enumerate(rows) if r.group == group and r.key != "other"]
        if idx:
            table[idx[0]][1] = _GROUP_LABELS["split_other" if group == "other" else group]
            spans.append(((1, idx[0]), (1, idx[-1])))
    story.append(grid(table, spans, widths=[40, 60, 120] + [40] * n))
    story.append(Paragraph("四、政府信息公开行政复议、行政诉讼情况", body))
    head = [["行政复议", "", "", "", "", "行政诉讼"] + [""] * 9,
            ["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
            [REVIEW_RESULT_LABELS[c][0] for c in REVIEW_COLUMNS] * 3]
    values = [_fmt(c.value) for k in REVIEW_ROWS for c in report.reviews[k]]
    story.append(grid(head + [values], [((0, 0), (4, 1)), ((5, 0), (14, 0)), ((5, 1), (9, 1)), ((10, 1), (14, 1))],
                      widths=[33] * 15))
    story += [Paragraph("五、存在的主要问题及改进情况", body), Paragraph("下一步，本机关将进一步做好政府信息公开工作。", body)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)
    return buf.getvalue()
