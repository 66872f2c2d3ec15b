"""The two national report templates as data.

Everything the parser, the renderer and the warehouse know about the form lives
here: row keys, column keys, the labels printed on the form and the aliases and
typos seen in real reports.  Code elsewhere walks these tables; it never names a
template's rows itself.

Aliases are matched as substrings of a label after normalisation
(:func:`ingestion.text.normalize_label`: NFKC, no whitespace), so they are short
and distinctive: a label broken across lines still carries one of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: Table 3 columns, in printed order.
APPLICANT_COLUMNS: tuple[str, ...] = (
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_services",
    "other_org",
    "total",
)
APPLICANT_LABELS: dict[str, tuple[str, str]] = {
    "natural_person": ("自然人", "Natural persons"),
    "commercial": ("商业企业", "Commercial enterprises"),
    "research": ("科研机构", "Research institutions"),
    "social_welfare": ("社会公益组织", "Social welfare organisations"),
    "legal_services": ("法律服务机构", "Legal service institutions"),
    "other_org": ("其他", "Other organisations"),
    "total": ("总计", "Total"),
}

#: Table 4 columns (results), in printed order.
REVIEW_COLUMNS: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
REVIEW_RESULT_LABELS: dict[str, tuple[str, str]] = {
    "upheld": ("结果维持", "Upheld"),
    "corrected": ("结果纠正", "Corrected"),
    "other": ("其他结果", "Other result"),
    "pending": ("尚未审结", "Pending"),
    "total": ("总计", "Total"),
}

#: Table 4 rows (proceedings), in printed order (left to right on the form).
REVIEW_ROWS: tuple[str, ...] = (
    "reconsideration",
    "litigation_direct",
    "litigation_after_reconsideration",
)
REVIEW_ROW_LABELS: dict[str, tuple[str, str]] = {
    "reconsideration": ("行政复议", "Administrative reconsideration"),
    "litigation_direct": ("行政诉讼·未经复议直接起诉", "Litigation without prior reconsideration"),
    "litigation_after_reconsideration": ("行政诉讼·复议后起诉", "Litigation after reconsideration"),
}


@dataclass(frozen=True)
class Row:
    """One row of table 3: its key, printed label, outcome group and aliases."""

    key: str
    label: str
    english: str
    group: str  # received / granted / partially_granted / denied / unavailable / rejected / other / total / carried
    aliases: tuple[str, ...]
    #: which variant of row (六) the row belongs to: None = both forms
    other_variant: str | None = None
    #: aliases that only count when the label carries this item number, e.g. "3.其他"
    numbered: tuple[str, ...] = field(default=())


#: Table 3 rows in printed order.  Row (六) has two variants: "single" (the 2019
#: form and some 2021 reports) and "split" (the 2021 form's three rows); the
#: source decides which (contract: row (六) follows what the source prints).
APPLICATION_ROWS: tuple[Row, ...] = (
    Row("new_received", "一、本年新收政府信息公开申请数量", "New applications received", "received",
        ("本年新收", "新收政府信息公开申请")),
    Row("carried_over", "二、上年结转政府信息公开申请数量", "Carried over from the previous year", "received",
        ("上年结转",)),
    Row("granted", "（一）予以公开", "Granted", "granted", ("予以公开",)),
    Row("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "Partially granted",
        "partially_granted", ("部分公开",)),
    Row("denied_state_secret", "1.属于国家秘密", "Denied: state secret", "denied", ("国家秘密",)),
    Row("denied_prohibited_by_law", "2.其他法律行政法规禁止公开", "Denied: prohibited by other laws",
        "denied", ("禁止公开", "其他法律", "行政止公开")),
    Row("denied_three_safeties_one_stability", "3.危及“三安全一稳定”",
        "Denied: endangers the three safeties and one stability", "denied",
        ("三安全一稳定", "危及")),
    Row("denied_third_party_rights", "4.保护第三方合法权益", "Denied: third-party rights", "denied",
        ("第三方",)),
    Row("denied_internal_affairs", "5.属于三类内部事务信息", "Denied: internal affairs", "denied",
        ("内部事务",)),
    Row("denied_process_info", "6.属于四类过程性信息", "Denied: process information", "denied",
        ("过程性",)),
    Row("denied_enforcement_files", "7.属于行政执法案卷", "Denied: enforcement files", "denied",
        ("执法案卷",)),
    Row("denied_administrative_query", "8.属于行政查询事项", "Denied: administrative query", "denied",
        ("行政查询",)),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", "Unavailable: not held", "unavailable",
        ("不掌握",)),
    Row("unavailable_needs_creation", "2.没有现成信息需要另行制作", "Unavailable: would need creating",
        "unavailable", ("另行制作", "没有现成")),
    Row("unavailable_unclear", "3.补正后申请内容仍不明确", "Unavailable: unclear after correction",
        "unavailable", ("仍不明确", "补正后申请")),
    Row("rejected_petition", "1.信访举报投诉类申请", "Not processed: petition or complaint", "rejected",
        ("信访", "举报投诉")),
    Row("rejected_duplicate", "2.重复申请", "Not processed: duplicate", "rejected", ("重复申请",)),
    Row("rejected_publication", "3.要求提供公开出版物", "Not processed: publications requested", "rejected",
        ("出版物",)),
    Row("rejected_excessive", "4.无正当理由大量反复申请", "Not processed: excessive repeated applications",
        "rejected", ("大量反复", "反复申请")),
    Row("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息",
        "Not processed: confirmation of information already held", "rejected",
        ("重新出具", "确认或重", "已获取信息")),
    Row("other", "（六）其他处理", "Other handling", "other", ("其他处理",), other_variant="single"),
    Row("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "Other: applicant did not correct in time", "other", ("逾期不补", "不补正"), other_variant="split"),
    Row("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "Other: fee not paid in time", "other", ("缴纳费用", "收费通知", "逾期未按"), other_variant="split"),
    Row("other_other", "3.其他", "Other: other", "other", (), other_variant="split",
        numbered=("3.其他", "3、其他", "(3)其他", "3其他")),
    Row("total", "（七）总计", "Total handled", "total", ("(七)总计", "七)总计", "(七)合计", "七.总计", "七.合计")),
    Row("carried_forward", "四、结转下年度继续办理", "Carried forward to next year", "carried",
        ("结转下年度", "结转下一年度", "下年度继续办理", "继续办理")),
)

#: Outcome groups in printed order, with their labels (dim_outcome in the warehouse).
OUTCOME_GROUPS: dict[str, tuple[str, str]] = {
    "granted": ("予以公开", "Granted"),
    "partially_granted": ("部分公开", "Partially granted"),
    "denied": ("不予公开", "Denied"),
    "unavailable": ("无法提供", "Unavailable"),
    "rejected": ("不予处理", "Not processed"),
    "other": ("其他处理", "Other handling"),
}

#: Rows that describe applications rather than outcomes.
NON_OUTCOME_ROWS: frozenset[str] = frozenset({"new_received", "carried_over", "total", "carried_forward"})


def application_rows(variant: str) -> tuple[Row, ...]:
    """Table 3 rows in printed order for row (六) ``variant`` ("single" or "split")."""
    return tuple(r for r in APPLICATION_ROWS if r.other_variant in (None, variant))


@dataclass(frozen=True)
class ProactiveRow:
    """One row of table 2: its key, printed label, fields and aliases."""

    key: str
    label: str
    fields: tuple[str, ...]
    aliases: tuple[str, ...]


#: Field labels of table 2, by field key (printed column headers).
PROACTIVE_FIELD_LABELS: dict[str, str] = {
    "issued": "本年制发件数",
    "abolished": "本年废止件数",
    "in_force": "现行有效件数",
    "decisions": "本年处理决定数量",
    "amount_10k_yuan": "本年收费金额（单位：万元）",
    "made": "本年新制作数量",
    "published": "本年新公开数量",
    "total_public": "对外公开总数量",
    "prev_items": "上一年项目数量",
    "change": "本年增/减",
    "projects": "采购项目数量",
}

#: Fields holding amounts (decimals, normalised to 万元); every other field is a count.
AMOUNT_FIELDS: frozenset[str] = frozenset({"amount_10k_yuan"})
#: Fields that may be negative (a change against last year).
SIGNED_FIELDS: frozenset[str] = frozenset({"change"})

@dataclass(frozen=True)
class StockRow:
    """A table-2 row whose stock carries over from year to year (the stock rule):
    ``stock`` of a year = ``stock`` of the year before + ``added`` - ``removed``."""

    row: str
    stock: str
    added: str
    removed: str


@dataclass(frozen=True)
class Form:
    """One national template (form) of the annual report, as data.

    ``key`` is the template's name in records and the warehouse ("2019", "2021").  A report
    of a year between ``first_year`` and ``last_year`` (either open) should use this form.
    Table 3 and table 4 are the same on every form; table 2 differs (``proactive_rows``), and
    so does how row (六) of table 3 is printed (``other_variant``: "single" or "split"; the
    source decides, this is what the form prescribes).
    """

    key: str
    document: str  # the circular that set the form
    first_year: int | None
    last_year: int | None
    proactive_rows: tuple[ProactiveRow, ...]
    #: column headers of table 2 that only this form prints: they decide a report's template
    markers: tuple[str, ...]
    other_variant: str
    #: table-2 rows whose stock the stock rule carries across years
    stock_rows: tuple[StockRow, ...] = ()
    #: table-2 cells that measure the same thing on every form that lists them, under one name
    #: ("row.field" -> measure); the others are specific to this form (dim_proactive_item)
    comparable: dict[str, str] = field(default_factory=dict)

    def covers(self, year: int) -> bool:
        """Whether a report for ``year`` should use this form."""
        return (self.first_year is None or year >= self.first_year) and (
            self.last_year is None or year <= self.last_year)


#: The national forms, oldest first.
FORMS: tuple[Form, ...] = (
    Form(
        key="2019",
        document="国办公开办函〔2019〕60号",
        first_year=None,
        last_year=2020,
        proactive_rows=(
            ProactiveRow("regulations", "规章", ("made", "published", "total_public"), ("规章",)),
            ProactiveRow("normative_documents", "规范性文件", ("made", "published", "total_public"),
                         ("规范性文件",)),
            ProactiveRow("licensing", "行政许可", ("prev_items", "change", "decisions"), ("行政许可",)),
            ProactiveRow("other_services", "其他对外管理服务事项", ("prev_items", "change", "decisions"),
                         ("对外管理服务",)),
            ProactiveRow("penalty", "行政处罚", ("prev_items", "change", "decisions"), ("行政处罚",)),
            ProactiveRow("coercion", "行政强制", ("prev_items", "change", "decisions"), ("行政强制",)),
            ProactiveRow("fees", "行政事业性收费", ("prev_items", "change"), ("事业性收费",)),
            ProactiveRow("procurement", "政府集中采购", ("projects", "amount_10k_yuan"), ("集中采购",)),
        ),
        markers=("新制作数量", "新公开数量", "对外公开总数", "上一年项目数", "本年增/减", "采购项目数", "采购总金额"),
        other_variant="single",
        # 本年新制作数量 counts the documents made in the year, as 本年制发件数 does on the 2021 form;
        # 对外公开总数量 (all ever published) is not 现行有效件数 (those in force)
        comparable={
            "regulations.made": "regulations.issued",
            "normative_documents.made": "normative_documents.issued",
            "licensing.decisions": "licensing.decisions",
            "penalty.decisions": "penalty.decisions",
            "coercion.decisions": "coercion.decisions",
        },
    ),
    Form(
        key="2021",
        document="国办公开办函〔2021〕30号",
        first_year=2021,
        last_year=None,
        proactive_rows=(
            ProactiveRow("regulations", "规章", ("issued", "abolished", "in_force"), ("规章",)),
            ProactiveRow("normative_documents", "行政规范性文件", ("issued", "abolished", "in_force"),
                         ("规范性文件",)),
            ProactiveRow("licensing", "行政许可", ("decisions",), ("行政许可",)),
            ProactiveRow("penalty", "行政处罚", ("decisions",), ("行政处罚",)),
            ProactiveRow("coercion", "行政强制", ("decisions",), ("行政强制",)),
            ProactiveRow("fees", "行政事业性收费", ("amount_10k_yuan",), ("事业性收费",)),
        ),
        markers=("制发件数", "废止件数", "现行有效", "本年发件", "收费金额"),
        other_variant="split",
        stock_rows=(
            StockRow("regulations", "in_force", "issued", "abolished"),
            StockRow("normative_documents", "in_force", "issued", "abolished"),
        ),
        comparable={
            "regulations.issued": "regulations.issued",
            "normative_documents.issued": "normative_documents.issued",
            "licensing.decisions": "licensing.decisions",
            "penalty.decisions": "penalty.decisions",
            "coercion.decisions": "coercion.decisions",
        },
    ),
)

#: Form key -> form.
FORMS_BY_KEY: dict[str, Form] = {f.key: f for f in FORMS}
#: The template keys, oldest first.
TEMPLATES: tuple[str, ...] = tuple(f.key for f in FORMS)
#: The form a report uses when neither its table 2 nor its year tells: the newest.
DEFAULT_TEMPLATE: str = FORMS[-1].key
#: Table 2 rows by template.
PROACTIVE_ROWS: dict[str, tuple[ProactiveRow, ...]] = {f.key: f.proactive_rows for f in FORMS}
#: Column headers of table 2 that only one template prints: they decide the template.
TEMPLATE_MARKERS: dict[str, tuple[str, ...]] = {f.key: f.markers for f in FORMS}

#: Section headings (normalised substrings) that open or close the three tables.
SECTION_MARKERS: dict[str, tuple[str, ...]] = {
    "proactive": ("主动公开政府信息情况",),
    "applications": ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请"),
    "reviews": ("行政复议、行政诉讼情况", "行政复议和行政诉讼情况", "行政复议,行政诉讼情况",
                "被申请行政复议、提起行政诉讼", "行政复议、行政诉讼"),
    "end": ("存在的主要问题", "其他需要报告的事项"),
}


def template_for_year(year: int) -> str:
    """The template a report for ``year`` should use (the form whose years cover it)."""
    for form in FORMS:
        if form.covers(year):
            return form.key
    return DEFAULT_TEMPLATE
