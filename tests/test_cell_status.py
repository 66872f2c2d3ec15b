"""Cell status and report metadata: what the parser read, what it could not, and where it found
the year and the agency.

A blank cell and a cell the parser could not read are both null in the record's arrays; the
record's ``unread`` list (and each cell's status) tells them apart, because a table with an
unread cell must never be certified.
"""
from __future__ import annotations

import json

import pytest

from ingestion.metadata import read_metadata
from ingestion.parse import parse_bytes, parse_file
from ingestion.record import Report, Status

from fixture_paths import GOLDEN_DIR, SAMPLES, SEEDS

SEED_000 = (SAMPLES / "000_f1db75d64b6a785a.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SEEDS, ids=[p.name for p in SEEDS])
def test_seeds_are_read_whole_and_their_blanks_are_blank(path) -> None:
    report = parse_file(path)
    assert report.cell_keys(Status.UNREAD) == []
    for table, row, col, cell in report.iter_cells():
        assert cell.status == (Status.BLANK if cell.value is None else Status.VALUE), (table, row, col)


def test_a_slash_is_a_blank_cell_not_an_unread_one() -> None:
    text = SEED_000.replace("规章 | 0 | 0 | 0 |", "规章 | / | — | 0 |", 1)
    report = parse_bytes(text.encode(), "slash.txt")
    cells = report.proactive["regulations"]
    assert (cells["issued"].value, cells["issued"].raw, cells["issued"].status) == (None, "/", Status.BLANK)
    assert (cells["abolished"].raw, cells["abolished"].status) == ("—", Status.BLANK)
    assert report.to_json()["unread"] == []


def test_a_row_the_parser_cannot_place_is_unread() -> None:
    report = parse_bytes(SEED_000.replace("规章 | 0 | 0 | 0 |\n", "", 1).encode(), "gone.txt")
    obj = report.to_json()
    assert obj["unread"] == ["proactive.regulations.issued", "proactive.regulations.abolished",
                             "proactive.regulations.in_force"]
    assert obj["proactive"]["regulations"] == {"issued": None, "abolished": None, "in_force": None}
    assert any("regulations: row not found; left unread" in w for w in obj["warnings"])
    # the rest of the report is read as before
    golden = json.loads((GOLDEN_DIR / "000_f1db75d64b6a785a.json").read_text(encoding="utf-8"))
    assert obj["applications"] == golden["applications"] and obj["reviews"] == golden["reviews"]


def test_a_token_that_is_no_value_of_its_cell_is_unread() -> None:
    text = SEED_000.replace("规章 | 0 | 0 | 0 |", "规章 | 1.5 | 0 | 0 |", 1)  # a count cannot be 1.5
    report = parse_bytes(text.encode(), "decimal.txt")
    cell = report.proactive["regulations"]["issued"]
    assert (cell.value, cell.raw, cell.status) == (None, "1.5", Status.UNREAD)
    assert report.to_json()["unread"] == ["proactive.regulations.issued"]


def test_the_record_round_trips_its_unread_cells() -> None:
    report = parse_bytes(SEED_000.replace("规章 | 0 | 0 | 0 |\n", "", 1).encode(), "gone.txt")
    again = Report.from_json(report.to_json())
    assert again.cell_keys(Status.UNREAD) == report.cell_keys(Status.UNREAD)
    assert again.proactive["licensing"]["decisions"].status == Status.VALUE


# ---------------------------------------------------------------- metadata


def test_year_from_the_statistics_period_alone() -> None:
    meta = read_metadata("某区人民政府政务公开工作报告\n本报告所列数据统计期限为2024年1月1日至2024年12月31日。\n")
    assert (meta.year, meta.year_source) == (2024, "statistics_period")
    meta = read_metadata("本年度报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止。")
    assert (meta.year, meta.year_source) == (2021, "statistics_period")


def test_year_from_the_publication_date_alone() -> None:
    meta = read_metadata("某局政务公开工作报告\n发布日期：2024-01-26\n")
    assert (meta.year, meta.year_source, meta.published) == (2023, "published", "2024-01-26")
    # a date later in the year does not say which year the report covers: no guess
    meta = read_metadata("某局政务公开工作报告\n发布日期：2024-10-08\n")
    assert (meta.year, meta.year_source) == (None, None)


def test_sources_of_year_and_agency() -> None:
    meta = read_metadata("淮安市洪泽区人民政府2024年政府信息公开工作年度报告\n")
    assert (meta.agency, meta.agency_source, meta.year, meta.year_source) == (
        "淮安市洪泽区人民政府", "title", 2024, "title")
    meta = read_metadata("索引号: 123 | 发文机关: 安源区商务局 |\n现将2021年度政府信息公开工作情况报告如下:\n")
    assert (meta.agency, meta.agency_source, meta.year, meta.year_source) == ("安源区商务局", "field", 2021, "text")


def test_a_saved_pages_header_block() -> None:
    """标题: / 发布时间: / 发布机构: before the body (a crawler record or a saved page)."""
    text = ("标题: 江源区2020年政府信息公开工作年度报告\n发布时间: 2021-01-20 10:00\n"
            "发布机构: 白山市江源区人民政府办公室\n原文链接: http://example.invalid/x.html\n")
    meta = read_metadata(text)
    assert (meta.agency, meta.agency_source, meta.year, meta.year_source) == ("江源区", "title", 2020, "title")
    assert meta.published == "2021-01-20"


def test_no_year_anywhere_is_reported_not_guessed() -> None:
    text = (SEED_000.replace("组配分类: 信息公开年报 | 成文日期: 2022-01-25 |", "组配分类: 信息公开年报 |")
            .replace("2021年", "本年").replace("现将本年度政府信息公开工作情况报告如下", "现将政府信息公开工作情况报告如下"))
    report = parse_bytes(text.encode(), "no_year.txt")
    obj = report.to_json()
    assert obj["year"] is None and "year_source" not in obj and "year not found" in obj["warnings"]
    assert obj["agency"] == "安源区商务局" and obj["agency_source"] == "field"


def test_a_broken_title_is_not_joined_to_a_field_or_a_date_above_it() -> None:
    # "发布时间：2024年01月20日" / "清溪县人民政府" / "政府信息公开工作年度报告" once named the agency
    # 发布时间 and the year 2024 from the title; "2022年11月30日" above, the agency "11月30日城南区商务局"
    meta = read_metadata("发布时间：2024年01月20日\n清溪县人民政府\n政府信息公开工作年度报告\n一、总体情况\n")
    assert meta.agency is None and (meta.year, meta.year_source) == (2023, "published")
    meta = read_metadata("2022年11月30日\n城南区商务局\n政府信息公开工作年度报告\n")
    assert (meta.agency, meta.year) == (None, None)
    # a title really broken over lines still joins
    meta = read_metadata("清溪县人民政府2023年\n政府信息公开工作年度报告\n")
    assert (meta.agency, meta.year, meta.year_source) == ("清溪县人民政府", 2023, "title")


def test_a_web_site_or_media_outlet_named_as_the_source_is_no_agency() -> None:
    for source in ("城南区人民政府门户网站", "城南区融媒体中心", "中国政府网", "城南日报", "城南发布客户端", "新华社"):
        assert read_metadata(f"来源：{source}\n政府信息公开工作年度报告\n").agency is None, source
    meta = read_metadata("来源：城南区商务局\n")
    assert (meta.agency, meta.agency_source) == ("城南区商务局", "field")
    # a CMS's <meta name="ContentSource"> is read as the same field
    from ingestion.formats import read_html

    page = ('<html><head><meta name="ContentSource" content="城南区人民政府门户网站"></head><body>'
            "<p>政府信息公开工作年度报告</p></body></html>")
    text = read_html(page.encode()).text
    assert "来源：城南区人民政府门户网站" in text and read_metadata(text).agency is None


def test_a_year_end_count_or_a_comparison_does_not_name_the_year() -> None:
    # 截至…12月31日 names the statistics period only as the data's: not a count at that date
    meta = read_metadata("2023年度工作总结\n截至2022年12月31日，我局现行有效规范性文件12件。\n")
    assert meta.year_source != "statistics_period" and meta.year != 2022
    meta = read_metadata("本报告所列数据截至2022年12月31日。\n")
    assert (meta.year, meta.year_source) == (2022, "statistics_period")
    # "与2022年我局…相比" compares with the year before: the report's year is the one it names itself
    meta = read_metadata("与2022年我局办理数相比有所增加。2023年我局共受理申请5件。\n")
    assert (meta.year, meta.year_source) == (2023, "text")
    assert read_metadata("较2022年我局受理数有所增加。\n").year is None
