"""The charts: Vega-Lite specs made with altair, drawn to SVG offline by vl-convert.

Why these two: altair is the well-kept Python front end of Vega-Lite (Great Expectations
already depends on it), and vl-convert renders a spec to SVG in-process (Rust + a bundled
Vega, no browser, no network: ``allowed_base_urls=[]`` forbids it to load anything).  The
pages then hold the finished SVG inline: nothing to load, no script to run, text that
stays text (Chinese labels included, drawn by the reader's own fonts).  plotly would put a
4.8 MB script in the site (or on a CDN) and draw in the browser.

Every chart gets already-aggregated rows (tens, not one per report).  Rendering costs
~50-250 ms a chart, and building its altair objects ~20 ms; :func:`draw` keeps the SVG of
charts it has drawn, keyed by their inputs, in this process and, in the folder
:func:`disk_cache` names (the site builder passes one beside the site), across runs: a night
that adds a few reports leaves most aggregates, hence most charts, as they were.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import altair as alt

#: Text is measured with the build machine's fonts (install fonts-wqy-microhei) and drawn
#: with the reader's: the same list, so both find a CJK font.
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
CERTIFIED = "#4c78a8"
QUARANTINED = "#e45756"
ACCENT = "#54a24b"
GREY = "#9d9d9d"
WIDTH = 460
_CACHE: OrderedDict[str, str] = OrderedDict()
_CACHE_SIZE = 512
#: The folder of drawn charts kept across runs (while :func:`disk_cache` is active), and the
#: charts the current build used from it or added to it.
_DISK: Path | None = None
_USED: set[str] = set()


@contextmanager
def disk_cache(folder: Path) -> Iterator[None]:
    """Keep the charts drawn inside the block as ``folder/<spec digest>.svg`` and reuse those
    there.  When the block ends without error the folder holds exactly the charts it used (the
    last site's), so it never grows past one site's charts."""
    global _DISK
    folder.mkdir(parents=True, exist_ok=True)
    _DISK = folder
    _USED.clear()
    try:
        yield
        for f in folder.iterdir():
            if f.stem not in _USED:
                f.unlink(missing_ok=True)  # another site's chart, or a temp file a killed build left
    finally:
        _DISK = None
        _USED.clear()
#: Charts drawn and charts taken from the cache, in this process.
COUNTS = {"drawn": 0, "cached": 0}
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT, background="white", padding=6)
            .configure_view(stroke=None)
            .configure_axis(labelFontSize=11, titleFontSize=11, titleFontWeight="normal", titleColor="#444",
                            labelColor="#333", gridColor="#ececec", domainColor="#999", tickColor="#999")
            .configure_legend(labelFontSize=11, titleFontSize=11, titleFontWeight="normal", orient="top")
            .configure_title(fontSize=13, anchor="start", color="#222", fontWeight="bold", subtitleColor="#666"))


def _builders_digest() -> str:
    """What a chart's drawing depends on besides its rows: this module's code and the versions of
    altair and vl-convert (the Vega-Lite and Vega they bundle)."""
    from importlib.metadata import version

    h = hashlib.sha256(Path(__file__).read_bytes())
    for package in ("altair", "vl-convert-python"):
        h.update(f"{package}={version(package)}".encode())
    return h.hexdigest()


_BUILDERS: str | None = None
_VALIDATED: set[str] = set()


def render_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec drawn to SVG by vl-convert, which may load nothing (``allowed_base_urls=[]``)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec, allowed_base_urls=[])


def warm_up() -> None:
    """Start vl-convert's engine (~0.4 s, the first chart of a process): what a chart process does
    first (orchestration/defs/resources.py)."""
    import altair  # noqa: F401  (imported in the same breath: a process that draws builds too)

    render_svg({"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "point",
                "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}})


class _Pending:
    """A chart asked for inside a :class:`Batch`: its SVG once the batch has finished (what the
    templates print through ``|safe``, which takes ``__html__``)."""

    __slots__ = ("svg",)

    def __init__(self) -> None:
        self.svg: str | None = None

    def __html__(self) -> str:
        if self.svg is None:
            raise RuntimeError("a chart was printed before its batch finished")
        return self.svg

    __str__ = __html__


class Batch:
    """Charts asked for inside the ``with`` block are drawn together: by ``drawer`` (an object with
    ``submit(fn, *args)`` and ``result(future)``, e.g. :class:`orchestration.side_process.SideProcess`)
    once :meth:`start` is called, while the caller goes on; or here, at :meth:`finish`.

    vl-convert holds the interpreter lock while it draws, so a drawer in another process is the
    only way the site's other pages are written meanwhile.  If that process has died, the charts
    are drawn here instead: a chart is no data, and its drawing is deterministic.
    """

    def __init__(self, drawer: Any = None) -> None:
        self.drawer = drawer
        self.items: list[tuple[_Pending, str, Path | None, dict[str, Any], str]] = []
        self._futures: list[Any] | None = None

    def __enter__(self) -> "Batch":
        global _BATCH
        _BATCH = self
        return self

    def __exit__(self, *exc: Any) -> None:
        global _BATCH
        _BATCH = None

    def start(self) -> None:
        """Hand the batch's specs to the drawer (no-op without one)."""
        if self.drawer is not None and self.items and self._futures is None:
            try:
                self._futures = [self.drawer.submit(render_svg, spec) for _, _, _, spec, _ in self.items]
            except Exception:  # noqa: BLE001  (drawn here at finish)
                self._futures = None

    def finish(self) -> None:
        """Every chart of the batch drawn, cached and put in its place."""
        drawn: list[str] | None = None
        if self._futures is not None:
            try:
                drawn = [self.drawer.result(f) for f in self._futures]
            except Exception:  # noqa: BLE001  (the drawer's process died: draw here)
                drawn = None
        if drawn is None:
            drawn = [render_svg(spec) for _, _, _, spec, _ in self.items]
        for (pending, digest, kept, _, label), svg in zip(self.items, drawn):
            _keep(digest, kept, svg)
            pending.svg = _finish(svg, label)
        COUNTS["drawn"] += len(self.items)
        self.items = []


_BATCH: Batch | None = None


def draw(label: str, builder: Callable[..., alt.TopLevelMixin], *args: Any, **kwargs: Any) -> Any:
    """The chart ``builder(*args, **kwargs)`` as an inline ``<svg>`` (no XML namespace attributes:
    HTML needs none), ``label`` its accessible name; inside a :class:`Batch`, a chart not cached
    yet is a placeholder the batch fills when it finishes.

    Charts are cached by their inputs (the builder, its arguments, :func:`_builders_digest`), in
    this process and in the :func:`disk_cache` folder: a cached chart is not even built, since
    building the altair objects costs more than reading the SVG back.
    """
    global _BUILDERS
    if _BUILDERS is None:
        _BUILDERS = _builders_digest()
    digest = hashlib.sha256(json.dumps([_BUILDERS, builder.__name__, args, kwargs], sort_keys=True,
                                       default=str, ensure_ascii=False).encode()).hexdigest()
    kept = _DISK / f"{digest}.svg" if _DISK is not None else None
    _USED.add(digest)
    if digest in _CACHE:
        _CACHE.move_to_end(digest)
        COUNTS["cached"] += 1
        return _finish(_CACHE[digest], label)
    if kept is not None and kept.is_file():
        COUNTS["cached"] += 1
        drawn = kept.read_text(encoding="utf-8")
        _remember(digest, drawn)
        return _finish(drawn, label)
    # checked against the Vega-Lite schema once per builder and process (~25 ms a chart): what a
    # builder makes has the same structure whatever its rows
    spec = _configure(builder(*args, **kwargs)).to_dict(validate=builder.__name__ not in _VALIDATED)
    _VALIDATED.add(builder.__name__)
    if _BATCH is not None:
        pending = _Pending()
        _BATCH.items.append((pending, digest, kept, spec, label))
        return pending
    drawn = render_svg(spec)
    COUNTS["drawn"] += 1
    _keep(digest, kept, drawn)
    return _finish(drawn, label)


def _remember(digest: str, drawn: str) -> None:
    if digest not in _CACHE:
        _CACHE[digest] = drawn
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _keep(digest: str, kept: Path | None, drawn: str) -> None:
    """A chart just drawn, into the process's cache and the disk cache."""
    if kept is not None:  # whole or not at all: a killed build leaves only a temp file
        temp = kept.with_name(f".{digest}.{uuid.uuid4().hex[:8]}.tmp")
        temp.write_text(drawn, encoding="utf-8")
        os.replace(temp, kept)
    _remember(digest, drawn)


def _finish(drawn: str, label: str) -> str:
    drawn = _XMLNS.sub("", drawn, count=2)
    escaped = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return drawn.replace("<svg", f'<svg role="img" aria-label="{escaped}"', 1)


def _data(rows: Iterable[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=[{k: (v if not hasattr(v, "isoformat") else v.isoformat()) for k, v in r.items()}
                            for r in rows])


def _title(zh: str, en: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(f"{zh} {en}", subtitle=subtitle or alt.Undefined)


# --------------------------------------------------------------------------- overview


def certified_stack(rows: list[dict[str, Any]], zh: str, en: str, key_zh: str, key_en: str,
                    horizontal: bool = False) -> alt.Chart:
    """Reports per key, certified and quarantined stacked (by year, template, format, province)."""
    long = [{"key": r["key"], "status": status, "reports": r[field]}
            for r in rows for status, field in (("已认证 certified", "certified"), ("隔离 quarantined", "quarantined"))]
    color = alt.Color("status:N", title=None, scale=alt.Scale(domain=["已认证 certified", "隔离 quarantined"],
                                                              range=[CERTIFIED, QUARANTINED]))
    keys = [r["key"] for r in rows]
    count = alt.Axis(title="报告数 Reports", format="~s")
    if horizontal:
        enc = dict(y=alt.Y("key:N", title=f"{key_zh} {key_en}", sort=keys), x=alt.X("sum(reports):Q", axis=count))
        size = dict(width=WIDTH - 140, height=max(60, 18 * len(rows)))
    else:
        enc = dict(x=alt.X("key:N", title=f"{key_zh} {key_en}", sort=keys, axis=alt.Axis(labelAngle=0)),
                   y=alt.Y("sum(reports):Q", axis=count))
        size = dict(width=max(160, min(WIDTH, 46 * len(rows))), height=180)
    return (alt.Chart(_data(long), title=_title(zh, en)).mark_bar()
            .encode(color=color, order=alt.Order("status:N", sort="ascending"),
                    tooltip=["key:N", "status:N", "reports:Q"], **enc)
            .properties(**size))


def shares(rows: list[dict[str, Any]], zh: str, en: str, subtitle: str | None = None) -> alt.Chart:
    """Horizontal bars of shares 0..1 labelled with the percentage (certified share per table)."""
    data = _data(rows)
    base = alt.Chart(data, title=_title(zh, en, subtitle)).encode(
        y=alt.Y("label:N", title=None, sort=[r["label"] for r in rows]),
        x=alt.X("share:Q", title="份额 Share", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    )
    bars = base.mark_bar(color=CERTIFIED)
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#222").encode(text=alt.Text("share:Q", format=".1%"))
    return (bars + text).properties(width=WIDTH - 220, height=28 * len(rows))


def counts(rows: list[dict[str, Any]], zh: str, en: str, value_zh: str, value_en: str,
           color: str = QUARANTINED, subtitle: str | None = None) -> alt.Chart:
    """Horizontal bars of counts per label (quarantines by cause, parse errors by kind)."""
    base = alt.Chart(_data(rows), title=_title(zh, en, subtitle)).encode(
        y=alt.Y("label:N", title=None, sort=[r["label"] for r in rows], axis=alt.Axis(labelLimit=330)),
        x=alt.X("n:Q", title=f"{value_zh} {value_en}", axis=alt.Axis(format="~s", tickMinStep=1)),
        tooltip=["label:N", "n:Q"],
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#222").encode(text="n:Q")
    return (base.mark_bar(color=color) + text).properties(width=WIDTH - 300, height=max(28, 24 * len(rows)))


def history(rows: list[dict[str, Any]]) -> alt.HConcatChart:
    """The last runs: files seen and parsed, the share parsed, the gate's seconds."""
    data = _data(rows)
    x = alt.X("run:O", title="运行 Run", sort=[r["run"] for r in rows], axis=alt.Axis(labelAngle=-40, labelLimit=140))
    kinds = {"files_seen": "收件箱中 in the inbox", "parsed": "新解析 parsed", "failed": "解析失败 failed"}
    long = _data([{"run": r["run"], "what": label, "files": r.get(key)} for r in rows for key, label in kinds.items()])
    files = (alt.Chart(long, title=_title("文件", "Files"))
             .mark_line(point=True).encode(x=x, y=alt.Y("files:Q", title="文件数 Files", axis=alt.Axis(format="~s")),
                                           color=alt.Color("what:N", title=None,
                                                           scale=alt.Scale(domain=list(kinds.values()),
                                                                           range=[GREY, CERTIFIED, QUARANTINED])),
                                           tooltip=["run:O", "what:N", "files:Q"])
             .properties(width=250, height=150))
    rate = (alt.Chart(data, title=_title("解析成功率", "Parse rate")).mark_line(point=True, color=ACCENT)
            .encode(x=x, y=alt.Y("parse_rate:Q", title="已解析份额 Share parsed", scale=alt.Scale(domain=[0, 1]),
                                 axis=alt.Axis(format="%")), tooltip=["run:O", "parse_rate:Q", "reports_per_s:Q"])
            .properties(width=250, height=150))
    gate = (alt.Chart(data, title=_title("质量关卡耗时", "Gate time")).mark_line(point=True, color=CERTIFIED)
            .encode(x=x, y=alt.Y("gate_s:Q", title="秒 Seconds"), tooltip=["run:O", "gate_s:Q", "judged_reports:Q"])
            .properties(width=250, height=150))
    return alt.hconcat(files, rate, gate, spacing=30)


# --------------------------------------------------------------------------- indicators


def histogram(rows: list[dict[str, Any]], zh: str, en: str) -> alt.Chart:
    """Agency-years per 5-point bin of a rate."""
    data = [{"from": r["bin_start"], "to": r["bin_start"] + 0.05, "n": r["agency_years"]} for r in rows]
    return (alt.Chart(_data(data), title=_title("分布", "Distribution")).mark_bar(color=CERTIFIED, binSpacing=1)
            .encode(x=alt.X("from:Q", bin="binned", title=f"{zh} {en}", scale=alt.Scale(domain=[0, 1]),
                            axis=alt.Axis(format="%")),
                    x2="to:Q", y=alt.Y("n:Q", title="机构·年度 Agency-years", axis=alt.Axis(format="~s")),
                    tooltip=[alt.Tooltip("from:Q", format=".0%"), "n:Q"])
            .properties(width=300, height=170))


def spread(rows: list[dict[str, Any]], zh: str, en: str, key_zh: str, key_en: str, horizontal: bool) -> alt.LayerChart:
    """Quantiles per group: a thin line 10th-90th percentile, a box 25th-75th, a tick at the median,
    a dot at the pooled rate (all requests of the group together)."""
    keys = [r["key"] for r in rows]
    data = _data(rows)
    # zero to the next 10% above the highest value drawn: small rates (denial) stay readable
    top = max((r[f] for r in rows for f in ("p90", "pooled", "q3") if r.get(f) is not None), default=1.0)
    rate = alt.Scale(domain=[0, min(1.0, max(0.1, math.ceil(top * 10 - 1e-9) / 10))], nice=False)
    fmt = alt.Axis(format="%")
    if horizontal:
        pos = dict(y=alt.Y("key:N", title=f"{key_zh} {key_en}", sort=keys))

        def v(field: str, title=None):
            return alt.X(f"{field}:Q", title=title, scale=rate, axis=fmt)

        def v2(field: str):
            return alt.X2(f"{field}:Q")
        size = dict(width=300, height=max(60, 20 * len(rows)))
        tick = {"orient": "vertical"}
    else:
        pos = dict(x=alt.X("key:N", title=f"{key_zh} {key_en}", sort=keys, axis=alt.Axis(labelAngle=0)))

        def v(field: str, title=None):
            return alt.Y(f"{field}:Q", title=title, scale=rate, axis=fmt)

        def v2(field: str):
            return alt.Y2(f"{field}:Q")
        size = dict(width=max(120, min(300, 40 * len(rows))), height=170)
        tick = {}
    key = "y" if horizontal else "x"
    val = "x" if horizontal else "y"
    tooltip = ["key:N", "agency_years:Q", alt.Tooltip("median:Q", format=".1%"),
               alt.Tooltip("pooled:Q", format=".1%")]
    base = alt.Chart(data)
    whisker = base.mark_rule(color=GREY).encode(**{key: pos[key], val: v("p10", f"{zh} {en}"), f"{val}2": v2("p90")})
    box = base.mark_bar(color="#a6c8e8", size=12).encode(**{key: pos[key], val: v("q1"), f"{val}2": v2("q3")},
                                                         tooltip=tooltip)
    median = base.mark_tick(color="#1f3d66", thickness=2, size=14, **tick).encode(**{key: pos[key], val: v("median")})
    pooled = base.mark_point(color=QUARANTINED, filled=True, size=28).encode(**{key: pos[key], val: v("pooled")},
                                                                             tooltip=tooltip)
    title = _title(f"按{key_zh}", f"by {key_en.lower()}")
    return alt.layer(whisker, box, median, pooled, title=title).properties(**size)


def denial_reasons(rows: list[dict[str, Any]]) -> alt.Chart:
    """Denials per request handled, by reason, stacked per year."""
    data = [{**r, "reason_label": f"{r['label_zh']} {r['label_en']}"} for r in rows]
    reasons = list(dict.fromkeys(r["reason_label"] for r in data))
    years = list(dict.fromkeys(r["year"] for r in data))
    return (alt.Chart(_data(data), title=_title("不予公开的理由", "Denial rate by reason",
                                                "每年：因该理由不予公开的申请 / 办理的申请 (all agencies pooled)"))
            .mark_bar()
            .encode(x=alt.X("year:N", title="年度 Year", sort=years, axis=alt.Axis(labelAngle=0)),
                    y=alt.Y("sum(rate):Q", title="不予公开率 Denial rate", axis=alt.Axis(format=".1%")),
                    color=alt.Color("reason_label:N", title=None, sort=reasons,
                                    scale=alt.Scale(scheme="tableau10"),
                                    legend=alt.Legend(orient="right", labelLimit=320)),
                    tooltip=["year:N", "reason_label:N", alt.Tooltip("rate:Q", format=".2%"), "denied:Q"])
            .properties(width=max(160, min(420, 60 * len(years))), height=200))
