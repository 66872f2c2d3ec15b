"""Crawler text never yields a wrong number: random rows glued to their labels, read back.

Each row prints random counts (signed ones in 本年增/减, amounts with decimals), its blank
cells as one random marker -- '/', '-', '—', an NBSP, or nothing at all -- and, in table 3,
sometimes a total that is not the sum of its parts.  Every cell the parser reads (a value,
a blank or an inferred cell) must be the printed one; what it cannot place is unread.
"""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
from test_parse_converted_layouts import _crawler

from ingestion.parse import parse_bytes
from ingestion.record import ParseError, Status

from fixture_paths import FIXTURES

_BLANKS = ("", "/", "-", "—", "\xa0")

# table 2 of the 2019 form in a crawler record: each row's label, its line, and its field kinds
_T2_ROWS = (("规章", "ccc"), ("规范性文件", "ccc"), ("行政许可", "csc"), ("其他对外管理服务事项", "csc"),
            ("行政处罚", "csc"), ("行政强制", "csc"), ("行政事业性收费", "cs"), ("政府集中采购", "ca"))


def _cell(rng: random.Random, kind: str, blank: str | None) -> tuple[str, Decimal | None]:
    if blank is not None and rng.random() < 0.25:
        return blank, None
    if kind == "s":
        v = rng.choice([0, 1, 2, 5, 12, -1, -3, -13, 20])
        return (f"+{v}" if v > 0 and rng.random() < 0.5 else str(v)), Decimal(v)
    if kind == "a":
        v = rng.choice(["0", "1.5", "12", "3.25", "0.8"])
        return v, Decimal(v)
    v = rng.choice([0, 0, 1, 2, 3, 10, 12, 100])
    return str(v), Decimal(v)


def _wrong(cells, truth) -> bool:
    for c, t in zip(cells, truth):
        if c.status == Status.UNREAD:
            continue
        if (c.value is None) != (t is None) or (t is not None and Decimal(str(c.value)) != t):
            return True
    return False


@pytest.mark.parametrize("seed", range(60))
def test_table_2_rows_are_read_right_or_unread(seed: int) -> None:
    rng = random.Random(seed)
    lines = (FIXTURES / "layouts" / "crawler_fengqiao2020.txt").read_text(encoding="utf-8").split("\n")
    where = {}
    for i, line in enumerate(lines[:30]):
        for label, _ in _T2_ROWS:
            if line.startswith(label) and (label != "规章" or line == "规章///"):
                where.setdefault(label, i)
    assert len(where) == len(_T2_ROWS)
    blank = rng.choice((*_BLANKS, None))
    truth = {}
    for label, kinds in _T2_ROWS:
        printed, values = zip(*(_cell(rng, k, blank) for k in kinds))
        lines[where[label]] = label + "".join(printed)
        truth[label] = values
    got = parse_bytes("\n".join(lines).encode(), f"t2_{seed}.txt")
    for (label, _), row in zip(_T2_ROWS, got.proactive.values()):
        assert not _wrong(list(row.values()), truth[label]), (seed, label, lines[where[label]], row)


@pytest.mark.parametrize("seed", range(60))
def test_table_3_rows_are_read_right_or_unread(seed: int) -> None:
    rng = random.Random(seed)
    blank = rng.choice(_BLANKS)
    labels = ("一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果（一）予以公开",
              "（二）部分公开", "（三）不予公开1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”",
              "4.保护第三方合法权益", "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷",
              "8.属于行政查询事项", "（四）无法提供1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作",
              "3.补正后申请内容仍不明确", "（五）不予处理1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物",
              "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息", "（六）其他处理", "（七）总计",
              "四、结转下年度继续办理")
    rows, truths = {}, []
    for label in labels:
        parts = [rng.choice([0, 0, 0, 1, 2, 3, 10, 12, 21, 100]) for _ in range(6)]
        total = sum(parts) + (rng.choice([1, -1, 10]) if rng.random() < 0.1 else 0)
        printed, truth = [], []
        for v in [*parts, max(total, 0)]:
            if v == 0 and rng.random() < 0.5:
                printed.append(blank)
                truth.append(None)
            else:
                printed.append(str(v))
                truth.append(Decimal(v))
        rows[label] = "".join(printed)
        truths.append(truth)
    try:
        got = parse_bytes(_crawler(rows), f"t3_{seed}.txt")
    except ParseError:  # a table too broken to parse says nothing wrong
        return
    for (key, row), truth, label in zip(got.applications.items(), truths, labels):
        assert not _wrong(list(row), truth), (seed, repr(blank), key, rows[label], row)
