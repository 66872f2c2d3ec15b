"""Provinces, from what the warehouse holds today: the first two digits of a report's division code.

A report's ``division_code`` (行政区划代码, read from its 索引号 when the page prints one) starts
with its province's code (GB/T 2260).  This small table turns those two digits into a name;
a report without a division code, or with a code no province has, is "unknown".

This stands in for the coming ``dim_region`` (province, city): when it lands,
:func:`inspector.queries.province_sql` reads the province from it and this table goes.
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
