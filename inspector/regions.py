"""Provinces' labels in both languages, by the first two digits of their division code.

The province of a report is the region it is linked to (``marts.link_report_agency``: its
索引号's division code, else the places its agency's name starts with, ingestion/agencies.py);
this small table labels it ``江苏 Jiangsu`` on the inspector's charts.  A report whose region is
unresolved (an ambiguous or placeless name, no code) is "unknown".
"""
from __future__ import annotations

#: GB/T 2260 province-level codes (first two digits) -> (Chinese, English).
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京", "Beijing"),
    "12": ("天津", "Tianjin"),
    "13": ("河北", "Hebei"),
    "14": ("山西", "Shanxi"),
    "15": ("内蒙古", "Inner Mongolia"),
    "21": ("辽宁", "Liaoning"),
    "22": ("吉林", "Jilin"),
    "23": ("黑龙江", "Heilongjiang"),
    "31": ("上海", "Shanghai"),
    "32": ("江苏", "Jiangsu"),
    "33": ("浙江", "Zhejiang"),
    "34": ("安徽", "Anhui"),
    "35": ("福建", "Fujian"),
    "36": ("江西", "Jiangxi"),
    "37": ("山东", "Shandong"),
    "41": ("河南", "Henan"),
    "42": ("湖北", "Hubei"),
    "43": ("湖南", "Hunan"),
    "44": ("广东", "Guangdong"),
    "45": ("广西", "Guangxi"),
    "46": ("海南", "Hainan"),
    "50": ("重庆", "Chongqing"),
    "51": ("四川", "Sichuan"),
    "52": ("贵州", "Guizhou"),
    "53": ("云南", "Yunnan"),
    "54": ("西藏", "Tibet"),
    "61": ("陕西", "Shaanxi"),
    "62": ("甘肃", "Gansu"),
    "63": ("青海", "Qinghai"),
    "64": ("宁夏", "Ningxia"),
    "65": ("新疆", "Xinjiang"),
}
UNKNOWN = ("未知", "unknown")


def province_label(code: str | None) -> str:
    """``"江苏 Jiangsu"`` for a division code starting 32; ``"未知 unknown"`` without one."""
    zh, en = PROVINCES.get((code or "")[:2], UNKNOWN)
    return f"{zh} {en}"


def values_sql() -> str:
    """The table as a SQL ``VALUES`` list ``(code, label)``, to join in a query."""
    return ", ".join(f"('{code}', '{zh} {en}')" for code, (zh, en) in PROVINCES.items())
