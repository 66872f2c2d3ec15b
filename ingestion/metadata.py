"""Report metadata from the page: agency, year, publication date, 索引号 and division code."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text import nfkc

_WS = re.compile(r"\s+")
# "<agency><year>年度政府信息公开工作年度报告", "<year>年<agency>政府信息公开工作年度报告", "<agency>关于<year>年…"
_TITLE = re.compile(
    r"^(?P<pre>.*?)(?:关于)?(?P<year>(?:19|20)\d{2})年度?(?P<mid>.*?)政府信息公开(?:工作)?年度?报告(?:\(.*\))?$"
)
_AGENCY_FIELD = re.compile(r"(?:发文机关|发布机构|发文单位|发布机关)\s*[:：]\s*([^\s|，,;；]+)")
_DATE_FIELD = re.compile(
    r"(?:成文日期|发布日期|公开日期|发布时间|发文日期|生成日期|印发日期)\s*[:：]?\s*"
    r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_INDEX = re.compile(r"索\s*引\s*号\s*[:：]?\s*([0-9A-Za-z][0-9A-Za-z\-/_.]*)")
_DIVISION = re.compile(r"^(\d{6})(?=[-/_.]|$)")
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年度?\s*(?:政府信息公开|本机关|我)")
# "本报告所列数据统计期限为2024年1月1日至2024年12月31日", "统计期限自2023年1月1日起至…止":
# the statistics period starts on 1 January of the year the report covers
_STATISTICS_PERIOD = re.compile(
    r"统计(?:期限|时限|期间|区间|时间|时段|范围|周期)\s*(?:为|是|自|从|:)?\s*((?:19|20)\d{2})\s*年\s*0?1\s*月\s*0?1\s*日"
)
#: A report published in these months of a year covers the year before (reports are due by
#: 31 January; late ones follow within months).  Later in the year the date says nothing sure.
_PUBLISHED_MONTHS_OF_NEXT_YEAR = range(1, 7)
# A saved page or crawler record starts with a header block: "标题: …", "发布机构: …"
_HEADER_LABEL = re.compile(r"^(?:标题|题名|名称|文章标题|信息名称)[:：]")
_BAD_AGENCY_END = re.compile(r"[\s，,。:：、(（]+$")
# What the name of a reporting body ends with: used only to accept a line above a title without one.
_AGENCY_SUFFIX = re.compile(
    r"(?:政府|办公室|办公厅|局|委员会|委|厅|院|署|中心|区|县|市|旗|州|盟|镇|乡|街道办事处|街道|管委会|公司|站|所|队|会|办|部|处)$"
)


@dataclass
class Metadata:
    """What the page says about the report besides its tables, and where it said it."""

    agency: str | None = None
    year: int | None = None
    published: str | None = None
    index_number: str | None = None
    division_code: str | None = None
    #: title, statistics_period (本报告所列数据统计期限为…), text (…年度政府信息公开…) or published
    year_source: str | None = None
    #: title (or the line above a broken title) or field (发布机构, 发文机关, … )
    agency_source: str | None = None


_MARKUP = re.compile(r"^[#>*\s]+|[*]+$")  # markdown heading, quote and bold markers around a line


def _norm(line: str) -> str:
    return _HEADER_LABEL.sub("", _WS.sub("", _MARKUP.sub("", nfkc(line))))


def read_metadata(text: str, head_lines: int = 120) -> Metadata:
    """Read the metadata from a document's text (title lines first, then the page's fields)."""
    meta = Metadata()
    # titles, dates and the 索引号 stand at the top of the page: read only its head
    head = text[:20000]
    nonempty: list[str] = []
    for raw in head.splitlines():
        if not raw.strip():
            continue
        line = _norm(raw)
        if not line:
            continue
        nonempty.append(line)
        if len(nonempty) > head_lines:
            break
        if len(line) > 60 or "报告" not in line:
            continue
        m = _TITLE.match(line)
        if not m:
            continue
        i = len(nonempty) - 1
        agency = (m.group("pre") or m.group("mid") or "").strip()
        above = nonempty[i - 1] if i > 0 else ""
        if not agency and len(above) <= 30 and _AGENCY_SUFFIX.search(above) and not any(ch.isdigit() for ch in above):
            agency = above  # title broken after the agency: "洪泽区人民政府" / "2023 年政府信息公开工作年度报告"
        meta.year, meta.year_source = int(m.group("year")), "title"
        if agency:
            meta.agency, meta.agency_source = _BAD_AGENCY_END.sub("", agency), "title"
        break
    if meta.agency is None:
        m = _AGENCY_FIELD.search(head)
        if m:
            meta.agency, meta.agency_source = m.group(1), "field"
    m = _DATE_FIELD.search(head)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:
            meta.published = f"{y:04d}-{mo:02d}-{d:02d}"
    m = _INDEX.search(head)
    if m:
        meta.index_number = m.group(1)
        d = _DIVISION.match(meta.index_number)
        if d:
            meta.division_code = d.group(1)
    if meta.year is None:
        m = _STATISTICS_PERIOD.search(nfkc(head))
        if m:
            meta.year, meta.year_source = int(m.group(1)), "statistics_period"
    if meta.year is None:
        m = _YEAR_IN_TEXT.search(head[:5000])
        if m:
            meta.year, meta.year_source = int(m.group(1)), "text"
        elif meta.published and int(meta.published[5:7]) in _PUBLISHED_MONTHS_OF_NEXT_YEAR:
            # reports are published early in the year after the one they cover
            meta.year, meta.year_source = int(meta.published[:4]) - 1, "published"
    return meta
