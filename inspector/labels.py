"""What the pages call things, in Chinese and English: rules, causes of quarantine, indicators.

The form's own labels (rows, columns, proceedings) are not here: the pages read them from
the warehouse's reference tables (``reference.ref_*``), which are generated from
``ingestion/templates.py``.
"""
from __future__ import annotations

#: Quality rules (expectations/rules.py, and the two coming ones) -> (Chinese, English).
RULES: dict[str, tuple[str, str]] = {
    "identity_1_balance": ("勾稽关系一：新收＋上年结转＝办理总计＋结转下年度",
                           "Identity 1: new + carried over = handled + carried forward"),
    "identity_2_outcomes": ("勾稽关系二：办理结果总计＝各项办理结果之和",
                            "Identity 2: total handled = sum of the outcomes"),
    "identity_3_applicants": ("勾稽关系三：总计列＝各类申请人之和",
                              "Identity 3: total column = sum of the applicant columns"),
    "identity_4_reviews": ("勾稽关系四：复议、诉讼总计＝各项结果之和",
                           "Identity 4: review total = sum of its results"),
    "identity_5_carry_over": ("勾稽关系五：上年结转＝上年报告的结转下年度",
                              "Identity 5: carried over = last year's carried forward"),
    "keys_present": ("单元格缺失：表中未读到模板要求的单元格",
                     "Cells missing: the table lacks cells the form requires"),
    "stock_rule": ("存量规则：现行有效件数逐年结转", "Stock rule: documents in force carry over"),
    "template_year": ("模板与年度不符", "The template does not fit the year"),
    "value_non_negative": ("数值为负", "Negative value"),
    "value_integer": ("件数不是整数", "A count that is not a whole number"),
    "key_known": ("表格中有模板之外的单元格", "A cell that is on no national form"),
    # coming from other issues (the pages show them as soon as the gate writes them)
    "cells_unread": ("解析器未能读取的单元格", "Cells the parser could not read"),
    "metadata_missing": ("报告元数据缺失", "Report metadata missing"),
}

#: Why a report is quarantined, by blocking rule: the report's own arithmetic, cells the
#: parser could not read, metadata it could not find, impossible values.
CAUSES: dict[str, tuple[str, str]] = {
    "identity": ("报告自身勾稽关系不符", "The report's own identities break"),
    "unread": ("解析器未能读取的单元格", "Cells the parser could not read"),
    "metadata": ("元数据缺失", "Missing metadata"),
    "values": ("数值不合规", "Impossible values"),
    "other": ("其他", "Other"),
}
RULE_CAUSE: dict[str, str] = {
    "identity_1_balance": "identity",
    "identity_2_outcomes": "identity",
    "identity_3_applicants": "identity",
    "identity_4_reviews": "identity",
    "keys_present": "unread",
    "cells_unread": "unread",
    "metadata_missing": "metadata",
    "value_non_negative": "values",
    "value_integer": "values",
    "key_known": "values",
}

#: The tables of the form, as the pages name them.
TABLES: dict[str, tuple[str, str]] = {
    "proactive": ("表二 主动公开政府信息情况", "Table 2: information published proactively"),
    "applications": ("表三 收到和处理政府信息公开申请情况", "Table 3: applications received and handled"),
    "reviews": ("表四 政府信息公开行政复议、行政诉讼情况", "Table 4: administrative reconsideration and litigation"),
}

#: Indicators of marts.agg_agency_year -> (Chinese, English, what it is).
INDICATORS: dict[str, tuple[str, str, str]] = {
    "substantive_disclosure_rate": ("实质公开率", "Substantive disclosure rate",
                                    "(granted + partially granted) / handled"),
    "denial_rate": ("不予公开率", "Denial rate", "denied / handled"),
    "not_held_rate": ("本机关不掌握率", "Not-held rate", "unavailable: not held / handled"),
    "reconsideration_correction_rate": ("行政复议纠错率", "Reconsideration correction rate",
                                        "corrected / reconsiderations"),
    "litigation_loss_rate": ("行政诉讼败诉率", "Litigation loss rate", "corrected / lawsuits"),
}

#: Chinese ordinal numerals of the form's outcome groups: （一） to （七）.
NUMERALS = "一二三四五六七八九十"


def rule_label(rule: str) -> tuple[str, str]:
    return RULES.get(rule, (rule, rule))


def cause_of(rule: str) -> str:
    return RULE_CAUSE.get(rule, "other")


def bilingual(pair: tuple[str, ...]) -> str:
    """``"中文 English"``: chart titles and axis labels carry both."""
    return f"{pair[0]} {pair[1]}"
