"""Synthetic annual reports: realistic canonical records with known answers.

Used by ``ogi synth`` (corpora for benchmarks and load tests) and by the tests.
Numbers look like the real ones: most bodies receive a handful of applications
or none, a few receive thousands; many reports print blanks where others print
0; agencies report year after year, so carried-over counts chain across years
(identity 5).  A chosen share of reports is printed with one number that breaks
an accounting identity, and the manifest says which.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .record import Cell, Report
from .templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
    application_rows,
    template_for_year,
)

_PROVINCES = ["浙江省", "江苏省", "江西省", "四川省", "吉林省", "广东省", "湖南省", "山东省", "河南省", "福建省"]
_CITIES = ["衢州市", "淮安市", "抚州市", "萍乡市", "攀枝花市", "白山市", "金华市", "赣州市", "宜宾市", "盐城市",
           "泉州市", "岳阳市", "洛阳市", "潍坊市", "韶关市"]
_COUNTIES = ["衢江区", "洪泽区", "安源区", "东区", "江源区", "临川区", "南湖区", "西湖区", "城关区", "开发区",
             "清河区", "高新区", "新城区", "江北区", "红旗区"]
_DEPARTMENTS = ["人民政府", "人民政府办公室", "商务局", "工业和信息化局", "财政局", "教育局", "自然资源局",
                "生态环境局", "住房和城乡建设局", "交通运输局", "卫生健康委员会", "市场监督管理局", "公安局",
                "民政局", "人力资源和社会保障局", "农业农村局", "水利局", "应急管理局", "统计局", "医疗保障局"]

# Outcome rows' share of handled applications (a typical year's mix).
_OUTCOME_WEIGHTS = {
    "granted": 40, "partially_granted": 10, "denied_state_secret": 0.3, "denied_prohibited_by_law": 0.6,
    "denied_three_safeties_one_stability": 0.3, "denied_third_party_rights": 0.6, "denied_internal_affairs": 1,
    "denied_process_info": 1.2, "denied_enforcement_files": 0.8, "denied_administrative_query": 1.5,
    "unavailable_not_held": 22, "unavailable_needs_creation": 2, "unavailable_unclear": 1,
    "rejected_petition": 3, "rejected_duplicate": 2, "rejected_publication": 0.3, "rejected_excessive": 0.5,
    "rejected_confirmation": 0.5, "other": 4, "other_no_correction": 2, "other_unpaid_fee": 0.3, "other_other": 2,
}
# Share of applications by applicant type (natural persons dominate).
_APPLICANT_WEIGHTS = [80, 8, 0.5, 1, 5, 2]


_TOWN_CHARS = "安宁东西南北中新城河湖山林田桥塘溪湾坪岭口庄营集店寨坝沟洲港峰源泉阳华兴隆丰泰和平福康"


def _town(n: int) -> str:
    """A township name unique to ``n`` (three characters from a pool, then 镇)."""
    k = len(_TOWN_CHARS)
    return f"{_TOWN_CHARS[n % k]}{_TOWN_CHARS[(n // k) % k]}{_TOWN_CHARS[(n // (k * k)) % k]}镇"


@dataclass
class Synthetic:
    """One generated report: its record (what the file prints) and the identity broken, if any."""

    report: Report
    broken: str | None


def _count(rng: random.Random, scale: float) -> int:
    """A long-tailed count: often 0, usually small, sometimes large."""
    if rng.random() < 0.35:
        return 0
    return int(rng.lognormvariate(0, 1.3) * scale)


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into len(weights) non-negative parts, roughly by weight."""
    parts = [0] * len(weights)
    if total <= 0:
        return parts
    cum = []
    acc = 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    if total > 200:  # large totals: proportional, remainder to the heaviest
        raw = [int(total * w / acc) for w in weights]
        raw[weights.index(max(weights))] += total - sum(raw)
        return raw
    for _ in range(total):
        x = rng.random() * acc
        for i, c in enumerate(cum):
            if x <= c:
                parts[i] += 1
                break
    return parts


def _cells(values: list[int | float | None]) -> list[Cell]:
    return [Cell(v, "" if v is None else str(v), "") for v in values]


def make_report(rng: random.Random, agency: str, year: int, carried_over: list[int], source: str,
                blank_zeros: bool) -> tuple[Report, list[int]]:
    """A consistent report (every identity holds) and its carried-forward counts per applicant type."""
    template = template_for_year(year)
    variant = "split" if template == "2021" and rng.random() > 0.15 else "single"
    rows = application_rows(variant)
    outcome_keys = [r.key for r in rows if r.group not in ("received", "carried", "total")]
    scale = rng.choice([1, 1, 1, 3, 10, 60])
    new = _split(rng, _count(rng, scale * 4), _APPLICANT_WEIGHTS)
    apps: dict[str, list[int]] = {"new_received": new, "carried_over": list(carried_over)}
    forward = [rng.randint(0, n + c) // 4 if rng.random() < 0.3 else 0 for n, c in zip(new, carried_over)]
    handled = [n + c - f for n, c, f in zip(new, carried_over, forward)]
    by_outcome = {k: [0] * 6 for k in outcome_keys}
    weights = [_OUTCOME_WEIGHTS[k] for k in outcome_keys]
    for col, h in enumerate(handled):
        for k, v in zip(outcome_keys, _split(rng, h, weights)):
            by_outcome[k][col] = v
    apps.update(by_outcome)
    apps["total"] = handled
    apps["carried_forward"] = forward

    def show(v: int) -> int | None:
        return None if blank_zeros and v == 0 else v

    applications = {
        r.key: _cells([show(v) for v in apps[r.key]] + [show(sum(apps[r.key]))]) for r in rows
    }
    reviews = {}
    for proceeding in REVIEW_ROWS:
        parts = [_count(rng, 0.3) if rng.random() < 0.2 else 0 for _ in range(4)]
        reviews[proceeding] = _cells([show(v) for v in parts] + [show(sum(parts))])
    proactive: dict[str, dict[str, Cell]] = {}
    for prow in PROACTIVE_ROWS[template]:
        fields = {}
        for f in prow.fields:
            if f in AMOUNT_FIELDS:
                value: int | float | None = round(rng.lognormvariate(3, 2), 2) if rng.random() < 0.6 else 0
                if value and float(value).is_integer():
                    value = int(value)
            elif f in SIGNED_FIELDS:
                value = rng.randint(-20, 20)
            else:
                value = _count(rng, 30)
            if rng.random() < 0.08 or (blank_zeros and value == 0):
                value = None
            fields[f] = Cell(value, "" if value is None else str(value), "")
        proactive[prow.key] = fields
    report = Report(source=source, agency=agency, year=year, template=template, applications=applications,
                    reviews=reviews, proactive=proactive)
    return report, forward


def _break(rng: random.Random, report: Report) -> str:
    """Print one number that breaks an identity; returns the rule broken."""
    choice = rng.random()
    if choice < 0.4:
        row, rule = report.applications["total"], "identity_2_outcomes"
        col = rng.randrange(6)
    elif choice < 0.7:
        row, rule = report.applications["new_received"], "identity_1_balance"
        col = rng.randrange(6)
    else:
        row, rule = report.reviews[rng.choice(REVIEW_ROWS)], "identity_4_reviews"
        col = 4
    old = row[col].value or 0
    new = old + rng.randint(1, 9)
    row[col] = Cell(new, str(new), "")
    return rule


def generate(n: int, seed: int = 0, break_share: float = 0.0) -> Iterator[Synthetic]:
    """``n`` reports of agencies reporting over consecutive years; ``break_share`` of them broken."""
    rng = random.Random(seed)
    produced = 0
    agency_no = 0
    used: set[str] = set()
    while produced < n:
        agency_no += 1
        place = f"{rng.choice(_PROVINCES)}{rng.choice(_CITIES)}{rng.choice(_COUNTIES)}"
        department = rng.choice(_DEPARTMENTS) if rng.random() < 0.8 else ""
        agency = f"{place}{department}"
        if agency in used:  # one series per body: identity 5 chains stay within one agency
            agency = f"{place}{_town(agency_no)}{department or '街道办事处'}"
        used.add(agency)
        start = rng.randint(2019, 2023)
        carried = [0] * 6
        blank_zeros = rng.random() < 0.15
        for year in range(start, min(start + rng.randint(1, 4), 2025)):
            if produced >= n:
                break
            report, carried = make_report(rng, agency, year, carried, f"{produced:06d}", blank_zeros)
            broken = _break(rng, report) if rng.random() < break_share else None
            produced += 1
            yield Synthetic(report, broken)


def write_corpus(out: Path, n: int, seed: int = 0, break_share: float = 0.0,
                 layouts: tuple[str, ...] | None = None) -> Path:
    """Render ``n`` synthetic reports into ``out`` with a golden record each and a manifest.

    Layout i of the corpus cycles through ``layouts`` (default: every layout of
    :mod:`ingestion.render`).  Returns the manifest path (one JSON line per file:
    file, layout, golden, broken).
    """
    from .render import LAYOUTS, render

    layouts = tuple(layouts or LAYOUTS)
    out.mkdir(parents=True, exist_ok=True)
    golden_dir = out / "golden"
    golden_dir.mkdir(exist_ok=True)
    manifest = out / "manifest.jsonl"
    ext = {"html": "html", "markdown": "md"}
    with manifest.open("w", encoding="utf-8") as mf:
        for i, item in enumerate(generate(n, seed, break_share)):
            layout = layouts[i % len(layouts)]
            name = f"{item.report.source}_{layout}.{ext.get(layout.split('-')[0], 'txt')}"
            item.report.source = name
            (out / name).write_bytes(render(item.report, layout, seed=seed + i))
            golden = item.report.to_json()
            (golden_dir / f"{name}.json").write_text(json.dumps(golden, ensure_ascii=False), encoding="utf-8")
            mf.write(json.dumps({"file": name, "layout": layout, "golden": f"golden/{name}.json",
                                 "broken": item.broken}, ensure_ascii=False) + "\n")
    return manifest
