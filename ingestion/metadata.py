"""Report metadata from the page: agency, year, publication date, 索引号 and division code."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text import nfkc

_WS = re.compile(r"\s+")
# "<agency><year>年度政府信息公开工作年度报告", "<year>年<agency>政府信息公开工作年度报告", "<agency>关于<year>年…"
_TITLE = re.compile(
    r"^(?P<pre>.*?)(?:关于)?(?P<year>(?:19|20)\d{2})年度?(?P<mid>.*?)政府信息公开(?:工作)?的?(?:年度?报告|年报)(?:\(.*\))?$"
)
# The last line of a title broken over lines: nothing but the end of a title ("政府信息公开工作年度报告").
_TITLE_TAIL = re.compile(r"^(?:年度?|度)?(?:政府信息公开)?(?:工作)?的?(?:年度?报告|年报)(?:\(.*\))?$")
# A year written in Chinese numerals: 二〇二三年
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_CN_YEAR = re.compile("[〇○零一二三四五六七八九]{4}(?=年)")
# (a field and its value may stand in two cells of a table: "发布机构： | 清溪县人民政府")
_AGENCY_FIELD = re.compile(r"(?:发文机关|发布机构|发文单位|发布机关|发布单位)\s*[:：][\s|]*([^\s|，,;；]+)")
# Where a field's value ends when a page's fields run together on one line (a crawler that
# dropped the line breaks: "发布机构：某局原文链接：http…"): at the next field's label or a link.
_NEXT_FIELD = re.compile(
    r"(?:原文链接|原文地址|链接|发布时间|发布日期|成文日期|公开日期|发文日期|标题|正文|来源|信息来源|索引号|文号|"
    r"浏览次数|点击数|主题分类|组配分类|https?:|www\.)")
#: A body's name is short; a longer value is text run into the field: no agency is better than a wrong one.
_MAX_AGENCY_CHARS = 40
# A saved page's source field: the agency only where it reads as one (not a web site's name).
_SOURCE_FIELD = re.compile(r"(?:信息来源|来源)\s*[:：][\s|]*([^\s|，,;；]+)")
#: How the names of web sites, media and news outlets end: a 来源 (or a CMS's ContentSource) so
#: named is where the page was published, not the reporting body.
MEDIA_ENDINGS: tuple[str, ...] = (
    "网", "网站", "门户", "门户网站", "政务网", "融媒体中心", "媒体中心", "新闻中心", "报", "报社", "日报", "晚报",
    "新闻", "新闻网", "客户端", "公众号", "微信", "微博", "头条号", "电视台", "广播电视台", "电台", "杂志", "期刊",
    "通讯社", "新华社", "APP", "app",
)
# The signature at the end of a report: the body, then the date it was signed ("2024年1月25日").
_SIGNED_DATE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日$")
_DATE_FIELD = re.compile(
    r"(?:成文日期|发布日期|公开日期|发布时间|发文日期|生成日期|印发日期)\s*[:：]?[\s|]*"
    r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_INDEX = re.compile(r"索\s*引\s*号\s*[:：]?[\s|]*([0-9A-Za-z][0-9A-Za-z\-/_.]*)")
_DIVISION = re.compile(r"^(\d{6})(?=[-/_.]|$)")
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年度?\s*政府信息公开")
# "2023年，我局…", "2023年本机关…": a weaker sign (a report names next year's plans the same way:
# "2024年我局将…"), taken last, and the earliest year so named
# (not a comparison: "与2022年我局…相比", "较2022年我局…")
_YEAR_OF_BODY = re.compile(
    r"(?<![与较比同])((?:19|20)\d{2})\s*年度?\s*(?:本机关|我)(?![^。，,;；\n]{0,12}?(?:相比|同比))")
# "本报告所列数据统计期限为2024年1月1日至2024年12月31日", "统计期限自2023年1月1日起至…止":
# the statistics period starts on 1 January of the year the report covers
_STATISTICS_PERIOD = re.compile(
    r"统计(?:期限|时限|期间|区间|时间|时段|范围|周期)\s*(?:为|是|自|从|:)?\s*((?:19|20)\d{2})\s*年\s*0?1\s*月\s*0?1\s*日"
    # "所列数据截止日期为2023年12月31日", "数据统计截至2023年12月31日": the period ends on 31 December
    # (of the data: "截至2022年12月31日，我局现行有效规范性文件…" is a count at a date, no period)
    r"|(?:数据|统计|本报告)[^。;\n]{0,8}?(?:截止日期为|截止时间为|截止到|截至|截止)\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日"
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
    #: title, statistics_period (本报告所列数据统计期限为…), text (…年度政府信息公开…), published or
    #: signature (the date under the report, signed in the first half of the year after)
    year_source: str | None = None
    #: title (or the line above a broken title), field (发布机构, 发文机关, … ) or signature (the body
    #: named above the date that ends the report)
    agency_source: str | None = None


_MARKUP = re.compile(r"^[#>*\s]+|[*]+$")  # markdown heading, quote and bold markers around a line
# What PDF-to-markdown converters add inside a line: HTML tags (<span id="page-0-0"></span>, <br>),
# images (![](_page_0_Picture_0.jpeg)), emphasis markers and table pipes.
_INLINE_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|!\[[^\]]*\]\([^)]*\)|\*+|__+|\|")
# An image embedded in the text (a converter's data URI): tens of kilobytes that push the title out of the head.
_DATA_IMAGE = re.compile(r"!\[[^\]]*\]\(data:[^)]*\)|data:image/[a-z]+;base64,[A-Za-z0-9+/=]+")


def _norm(line: str) -> str:
    line = nfkc(line)
    # (markup is rare; table pipes matter only around a title: a web page flattened to text prints
    # pipes in most lines of its head)
    if "<" in line or "**" in line or "![" in line or "__" in line or "|" in line and "报" in line:
        line = _INLINE_MARKUP.sub("", line)
    return _HEADER_LABEL.sub("", _WS.sub("", _MARKUP.sub("", line)))


def _title(line: str, above: list[str]) -> re.Match[str] | None:
    """The title match of ``line``, or of ``line`` joined to the one or two short lines above it
    (a title broken over lines: "清溪县人民政府2023年" / "政府信息公开工作年度报告")."""
    if "年" not in line and "〇" not in line:
        return None
    if _CN_YEAR.search(line):
        line = _CN_YEAR.sub(lambda m: m.group().translate(_CN_DIGITS), line)
    m = _TITLE.match(line)
    if m is not None or not _TITLE_TAIL.match(line):
        return m
    joined = line
    for previous in reversed(above[-2:]):
        if len(previous) > 40 or not _joins_a_title(previous):
            break
        joined = previous + joined
        m = _TITLE.match(joined)
        if m is not None:
            return m
    return None


# What a line above a broken title may not hold: a field's label, a date (月, 日, or digits before
# 年 anywhere but a year at the line's end: "2022年11月30日", "发布时间：2024年01月20日").
_NOT_TITLE_PART = re.compile(r"[:：]|\d\s*[月日]|\d\s*年(?!度?$)")
_YEAR_AT_END = re.compile(r"(?:19|20)\d{2}\s*年度?$")


def _joins_a_title(previous: str) -> bool:
    """Whether a line may be the start of a title broken over lines: no field label, no date, and
    a year (if any) at its end ("清溪县人民政府2023年")."""
    if _NOT_TITLE_PART.search(previous):
        return False
    return "年" not in previous or _YEAR_AT_END.search(previous) is not None


def _field_value(value: str) -> str | None:
    """A body's name from a field's value: cut where the next field starts, ``None`` when what is
    left is empty or too long to be a name."""
    m = _NEXT_FIELD.search(value)
    value = value[:m.start()] if m else value
    return value if 0 < len(value) <= _MAX_AGENCY_CHARS else None


def read_metadata(text: str, head_lines: int = 120) -> Metadata:
    """Read the metadata from a document's text (title lines first, then the page's fields)."""
    meta = Metadata()
    # titles, dates and the 索引号 stand at the top of the page: read only its head
    head = text[:20000]
    _read_title(head, meta, head_lines)
    if meta.year_source is None and "data:image" in head:
        # images embedded by a converter (data URIs) may fill the head: look past them
        head = _DATA_IMAGE.sub("", text[:2_000_000])[:20000]
        _read_title(head, meta, head_lines)
    if meta.agency is None:
        m = _AGENCY_FIELD.search(head)
        name = _field_value(m.group(1)) if m else None
        if name:
            meta.agency, meta.agency_source = name, "field"
    if meta.agency is None:
        m = _SOURCE_FIELD.search(head)
        name = _field_value(m.group(1)) if m else None
        if (name and _AGENCY_SUFFIX.search(name) and not any(ch.isdigit() for ch in name)
                and not name.endswith(MEDIA_ENDINGS)):
            meta.agency, meta.agency_source = name, "field"
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
            meta.year, meta.year_source = int(m.group(1) or m.group(2)), "statistics_period"
    if meta.year is None:
        m = _YEAR_IN_TEXT.search(head[:5000])
        if m:
            meta.year, meta.year_source = int(m.group(1)), "text"
        elif meta.published and int(meta.published[5:7]) in _PUBLISHED_MONTHS_OF_NEXT_YEAR:
            # reports are published early in the year after the one they cover
            meta.year, meta.year_source = int(meta.published[:4]) - 1, "published"
    if meta.agency is None or meta.year is None:
        _signature(text, meta)
    if meta.year is None:
        years = [int(y) for y in _YEAR_OF_BODY.findall(head[:5000])]
        if years:
            meta.year, meta.year_source = min(years), "text"
    return meta


def _read_title(head: str, meta: Metadata, head_lines: int) -> None:
    """Agency and year from the title among the first ``head_lines`` lines of ``head``."""
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
        if len(line) > 60 or ("报告" not in line and "年报" not in line):
            continue
        m = _title(line, nonempty[:-1])
        if not m:
            continue
        i = len(nonempty) - 1
        agency = (m.group("pre") or m.group("mid") or "").strip()
        above = nonempty[i - 1] if i > 0 else ""
        if m.string != line:  # joined to the lines above: the agency is what the joined lines say
            above = ""
        if not agency and len(above) <= 30 and _AGENCY_SUFFIX.search(above) and not any(ch.isdigit() for ch in above):
            agency = above  # title broken after the agency: "洪泽区人民政府" / "2023 年政府信息公开工作年度报告"
        meta.year, meta.year_source = int(m.group("year")), "title"
        if agency:
            meta.agency, meta.agency_source = _BAD_AGENCY_END.sub("", agency), "title"
        return


def _signature(text: str, meta: Metadata, tail_lines: int = 30) -> None:
    """Agency and year from the signature that ends a report: the body's name on a short line, the
    date it was signed on the next ("清溪县人民政府办公室" / "2024 年 1 月 25 日"); a report signed in
    the first half of a year covers the year before.  A date with no body's name above it is no
    signature (it may close a paragraph, or end a page's text): it names neither."""
    lines = [_norm(raw) for raw in text[-6000:].splitlines()[-tail_lines * 3:] if raw.strip()]
    lines = [ln for ln in lines if ln][-tail_lines:]
    for i in range(len(lines) - 1, 0, -1):
        m = _SIGNED_DATE.match(lines[i])
        if m is None:
            continue
        name = lines[i - 1]
        if len(name) > 30 or not _AGENCY_SUFFIX.search(name) or any(ch.isdigit() for ch in name):
            return
        if meta.agency is None:
            meta.agency, meta.agency_source = name, "signature"
        year, month = int(m.group(1)), int(m.group(2))
        if meta.year is None and month in _PUBLISHED_MONTHS_OF_NEXT_YEAR:
            meta.year, meta.year_source = year - 1, "signature"
        return
