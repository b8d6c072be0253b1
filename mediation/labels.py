"""The Chinese glossary: one label for each code the domain uses, for every layer (web
pages, statistics labels, charts). Codes are the enums' values in ``mediation.values``.

Claim categories follow the wording of LDMAL art. 2 (劳动争议调解仲裁法第二条); shorter
forms are cut from these at the first "（", never written again.
"""

from __future__ import annotations

import re
from typing import Final

STATUS: Final[dict[str, str]] = {
    "received": "已收案",
    "accepted": "已受理",
    "not_accepted": "不予受理",
    "entrusted": "已委托调解",
    "in_mediation": "调解中",
    "agreement_signed": "已签调解协议",
    "succeeded": "调解成功",
    "mediation_failed": "调解不成",
    "closed": "已结案",
}

ROUTE: Final[dict[str, str]] = {"pre_filing": "立案前", "post_filing": "立案后"}

CLAIM: Final[dict[str, str]] = {
    "labour_relationship_confirmation": "确认劳动关系",
    "contract": "劳动合同（订立、履行、变更、解除、终止）",
    "dismissal": "除名、辞退、辞职、离职",
    "working_conditions": "工作时间、休息休假、社会保险、福利、培训、劳动保护",
    "remuneration": "劳动报酬、工伤医疗费、经济补偿或赔偿金",
    "other": "其他",
}

WORKER: Final[dict[str, str]] = {
    "employee": "职工",
    "delivery_rider": "外卖骑手",
    "ride_hailing_driver": "网约车司机",
    "truck_driver": "货车司机",
    "courier": "快递员",
    "domestic_worker": "家政服务员",
    "other_new_employment": "其他新就业形态劳动者",
}

DEADLINE: Final[dict[str, str]] = {
    "acceptance_decision": "受理审查期限",
    "mediation_window": "调解期限",
    "performance": "协议履行期限",
    "review_application": "仲裁审查申请期限",
    "award": "仲裁审理期限",
    "review_decision": "仲裁审查受理期限",
    "review_conclusion": "仲裁审查期限",
}

DISPOSITION: Final[dict[str, str]] = {
    "award": "仲裁裁决",
    "withdrawn": "申请人撤回",
    "tribunal_mediation": "仲裁庭调解",
    "other": "其他",
    "mediation_statement": "调解结案（仲裁调解书）",
}

REVIEW_STATE: Final[dict[str, str]] = {
    "applied": "已申请，待决定是否受理",
    "accepted": "已受理审查",
    "refused": "不予受理审查",
    "withdrawn": "已撤回审查申请",
    "ended": "送达前反悔，审查终结",
}

REVIEW_REFUSAL: Final[dict[str, str]] = {
    "labour_relationship": "确认劳动关系争议",
    "outside_scope": "不属于仲裁审查范围",
    "late": "超过申请期限",
    "not_joint": "未由双方共同申请",
    "agreement_defective": "协议违法、内容不明确或非自愿",
}

PARTY: Final[dict[str, str]] = {
    "applicant": "申请人（劳动者）",
    "respondent": "被申请人（用人单位）",
}

STUDIO_KIND: Final[dict[str, str]] = {
    "docking_studio": "裁调对接工作室",
    "union_workstation": "工会法律服务工作站",
    "arbitration_outpost": "劳动争议仲裁驻庭",
}

QUALIFICATION: Final[dict[str, str]] = {
    "union_cadre": "工会干部",
    "lawyer": "律师",
    "retired_judge": "退休法官",
    "retired_arbitrator": "退休仲裁员",
    "legal_worker": "法律工作者",
    "hr_professional": "人力资源从业人员",
    "other": "其他",
}

ROLE: Final[dict[str, str]] = {
    "admin": "系统管理员",
    "clerk": "立案庭书记员",
    "mediator": "调解员",
    "coordinator": "工作室协调员",
    "auditor": "统计审计员",
    "system": "系统",
}

OUTCOME: Final[dict[str, str]] = {"performance": "协议履行完毕", "statement": "出具仲裁调解书"}

EVENT: Final[dict[str, str]] = {
    "Received": "收案登记",
    "Assessed": "委托调解审查",
    "ConsentRecorded": "当事人调解意愿",
    "Entrusted": "委托调解",
    "ClaimsSevered": "分案",
    "MediatorAssigned": "指派调解员",
    "SessionRecorded": "调解会谈",
    "WindowExtended": "延长调解期限",
    "AgreementSigned": "签订调解协议书",
    "PerformanceRecorded": "协议履行",
    "ReviewApplied": "申请仲裁审查",
    "StatementIssued": "出具仲裁调解书",
    "StatementServed": "调解书送达签收",
    "StatementRetracted": "送达前反悔",
    "MediationFailed": "调解不成",
    "AcceptanceDecided": "受理决定",
    "AwardPeriodExtended": "延长审理期限",
    "Closed": "结案",
    "ReviewDecided": "仲裁审查受理决定",
    "ReviewWithdrawn": "撤回仲裁审查申请",
    "MediatorRecused": "调解员回避",
    "Transferred": "移送其他工作室",
    "PerformanceVerified": "履行情况回访核实",
    "DocumentIssued": "制作文书",
    "Numbered": "编号",
}

# case commands, by their name in mediation.commands (the web pages' form titles)
COMMAND: Final[dict[str, str]] = {
    "assess": "委托调解审查",
    "record_consent": "当事人调解意愿",
    "entrust": "委托调解",
    "sever": "分案",
    "assign_mediator": "指派调解员",
    "record_session": "记录调解会谈",
    "extend_window": "延长调解期限",
    "sign_agreement": "签订调解协议书",
    "record_performance": "记录协议履行",
    "apply_review": "申请仲裁审查",
    "issue_statement": "出具仲裁调解书",
    "serve_statement": "调解书送达签收",
    "retract_statement": "送达前反悔",
    "fail": "调解不成",
    "decide_acceptance": "受理决定",
    "extend_award_period": "延长审理期限",
    "close": "结案",
    "decide_review": "仲裁审查受理决定",
    "withdraw_review": "撤回仲裁审查申请",
    "recuse": "调解员回避",
    "transfer": "移送其他工作室",
    "verify_performance": "回访核实履行情况",
}

GROUP_BY: Final[dict[str, str]] = {
    "city": "市（州）",
    "county": "县（市、区）",
    "studio": "工作室",
    "mediator": "调解员",
    "month": "月份",
    "claim_category": "请求类别",
    "route": "调解途径",
    "worker_category": "劳动者类别",
    "failure_reason": "调解不成原因",
}

# data keys of history events, shown in the timeline
FIELD: Final[dict[str, str]] = {
    "region_code": "地区",
    "applicant": "申请人",
    "respondent": "被申请人",
    "claims": "仲裁请求",
    "within_scope": "属于仲裁范围",
    "meets_acceptance_conditions": "符合受理条件",
    "suitable_for_mediation": "适宜调解",
    "reason": "理由",
    "party": "当事人",
    "given": "同意调解",
    "studio_id": "工作室",
    "route": "途径",
    "window_ends_on": "调解期限届满",
    "mediator_id": "调解员",
    "summary": "会谈摘要",
    "amount": "金额",
    "performance_due_on": "履行期限",
    "terms": "协议内容",
    "amount_paid": "本次履行金额",
    "complete": "履行完毕",
    "number": "调解书编号",
    "accepted": "受理",
    "disposition": "结案方式",
    "days": "天数",
    "approved_by": "批准人",
    "categories": "请求类别",
    "new_case_id": "新案件",
    "name": "姓名/名称",
    "id_number": "身份号码",
    "phone": "电话",
    "worker_category": "劳动者类别",
    "credit_code": "统一社会信用代码",
    "category": "类别",
    "limitation_warning": "仲裁时效提示",
    "acceptance_due_on": "受理审查期限",
    "award_due_on": "审理期限",
    "review_due_on": "仲裁审查申请期限",
    "ends_mediation": "结束调解",
    "infringement_known_on": "知道权利被侵害之日",
    "severed_from": "分案来源",
    "success_branch": "成功方式",
    "branch": "成功方式",
    "reversed": "撤销成功",
    "decision_due_on": "审查受理决定期限",
    "conclusion_due_on": "审查期限",
    "reason_code": "理由类别",
    "restores_agreement": "协议继续有效",
    "accepted_on": "受理日期",
    "parties_agreed": "双方当事人同意",
    "employment_ended_on": "劳动关系终止之日",
    "from_studio_id": "原工作室",
    "signed_by": "签名",
    "sealed": "已盖章",
    "settles": "协议涉及的请求类别",
    "obligor": "履行义务人",
    "confirmation": "劳动者书面确认",
    "needs_verification": "待回访核实",
    "method": "核实方式",
    "note": "核实情况",
    "acceptance_resumes_on": "暂缓受理结束后的受理审查期限",
    # issue 17: every party
    "applicants": "申请人",
    "respondents": "被申请人",
    "representatives": "代表人",
    "representative": "代表人",
    "collective": "集体劳动争议",
    "address": "送达地址",
    "agent": "委托代理人",
    "agent_kind": "代理人类别",
    "legal_representative": "法定代表人",
    # documents (issue 17)
    "kind": "文书种类",
    "document_number": "文号",
    "document_id": "文书",
    "sha256": "SHA-256",
    "pages": "页数",
    "verification_code": "核验码",
    "issuing_body": "制作机关",
    "number_kind": "编号类别",
    "assigned": "编号",
    "commission": "仲裁委员会",
    "year": "年度",
    "sequence": "序号",
    "severed_from_number": "原案编号",
}

# --- the official record (issue 17): case numbers and search -------------------------------

NUMBER_KIND: Final[dict[str, str]] = {"registration": "登记号", "filing": "案号"}

NUMBERS: Final[dict[str, str]] = {
    "case_number": "登记号",
    "filing_number": "案号",
    "severed_from_number": "原案编号",
    # a case recorded before numbers were given (shown with its short id instead)
    "unnumbered": "无编号（启用案件编号前登记）",
    "search": "搜索",
    "search_placeholder": "案号、登记号、当事人姓名、身份证号、信用代码",
    "search_results": "搜索结果",
    "search_none": "没有找到符合条件的案件",
    "search_hint": "可按案号或登记号（全文或序号）、当事人姓名（开头几个字）、"
    "公民身份号码（完整）、统一社会信用代码或列表中的短编号查找，仅限本辖区。",
    "search_too_short": "请输入要查找的内容",
}

# --- documents (issue 17): the seven kinds of contract v1.1 -----------------------------

DOCUMENT_KIND: Final[dict[str, str]] = {
    "mediation_suggestion": "调解建议书",
    "entrustment_letter": "委托调解函",
    "mediation_agreement": "劳动争议调解协议书",
    "mediation_ended_notice": "终止调解告知书",
    "acceptance_notice": "受理通知书",
    "non_acceptance_notice": "不予受理通知书",
    "service_receipt": "送达回证",
}

# issue 17: who acts for a party (委托代理人), and the words of a collective dispute
AGENT_KIND: Final[dict[str, str]] = {
    "lawyer": "律师",
    "union": "工会",
    "relative": "近亲属",
    "other": "其他公民",
}
COLLECTIVE: Final[str] = (
    "集体劳动争议（劳动者一方十人以上并有共同请求，《劳动争议调解仲裁法》第7条）"
)

# --- law-a (issue 15) ---------------------------------------------------------------------

FAILURE_REASON: Final[dict[str, str]] = {
    "no_agreement": "未达成协议",
    "party_absent": "当事人未到场",
    "consent_withdrawn": "当事人撤回调解意愿",
    "window_lapsed": "调解期限届满",
    "not_performed": "协议到期未履行",
    "declared_refusal": "一方书面表示不履行",
    "statement_retracted": "调解书送达前反悔",
    "review_refused_and_abandoned": "仲裁审查不予受理且未再申请",
    "other": "其他",
}

SIGNATORY: Final[dict[str, str]] = {
    "applicant": "申请人",
    "respondent": "被申请人",
    "mediator": "调解员",
}

VERIFICATION_METHOD: Final[dict[str, str]] = {
    "phone": "电话回访",
    "visit": "上门回访",
    "document": "书面材料",
}


# charts and statements of the auditor's pages (api/pages/charts.py, stats.py)
CHART: Final[dict[str, str]] = {
    "no_data": "无数据",
    "n": "（{n}件）",
    "unit": "单位：{unit}",
    "unit_rate": "单位：%（括号内为计算该比率的案件数；无数据 = 没有可计算的案件，不同于 0%）",
    "cases": "件",
}

SUBSIDY: Final[dict[str, str]] = {
    "studio": "工作室",
    "mediator": "调解员",
    "name": "名称",
    "cases": "案件数",
    "amount": "金额（元）",
    "compensating_entries": "冲减条目数",
    "awaiting_verification_cases": "待回访核实件数",
    "awaiting_verification_amount": "待回访核实金额（元，未发放）",
    "total": "合计",
    "unassigned": "（未指派调解员）",
    "region": "地区",
    "month": "月份",
}

ACCOUNT_STATE: Final[dict[str, str]] = {"enabled": "正常", "disabled": "已停用"}

ACCOUNT_CHANGE: Final[dict[str, str]] = {
    "created": "创建",
    "role_changed": "角色变更",
    "region_changed": "地区变更",
    "studio_changed": "工作室变更",
    "mediator_changed": "调解员变更",
    "password_changed": "修改密码",
    "disabled": "停用",
    "enabled": "启用",
    "logged_out": "退出登录",
    "recorded": "升级时登记",
}


# --- the case page's next-step panel (issue 12; mediation.next_step) -----------------------

NEXT_STEP: Final[dict[str, str]] = {
    "assess": "委托调解审查",
    "decide_acceptance": "作出受理决定",
    "hearing": "仲裁审理并结案",
    "sever_confirmation": "分案：分出确认劳动关系请求",
    "consents": "记录双方调解意愿",
    "entrust_pre_filing": "委托调解（立案前，暂缓受理）",
    "entrust_post_filing": "委托调解（立案后）",
    "assign_mediator": "指派调解员",
    "record_session": "组织调解会谈",
    "sign_agreement": "签订调解协议书",
    "sign_agreement_late": "逾期仍可签订调解协议书",
    "fail_window_lapsed": "调解期限届满：记录调解不成",
    "record_performance": "记录协议履行",
    "record_performance_late": "逾期履行仍可记录",
    "fail_not_performed": "协议到期未履行：记录调解不成",
    "apply_review": "双方共同申请仲裁审查",
    "decide_review": "仲裁审查受理决定",
    "issue_statement": "出具仲裁调解书",
    "issue_statement_post": "出具仲裁调解书",
    "serve_statement": "调解书送达签收",
    "verify_performance": "回访核实履行情况",
    "close_after_success": "调解结案",
    "acceptance_after_failure": "恢复受理审查：作出受理决定",
    "award_after_failure": "恢复仲裁审理并结案",
}

NEXT_STEP_WHY: Final[dict[str, str]] = {
    "assess": "审查是否属于仲裁范围、符合受理条件、适宜调解，并写明理由。",
    "decide_acceptance": "不委托调解的，在受理审查期限内决定受理或不予受理"
    "（《劳动争议调解仲裁法》第29条）。",
    "hearing": "不委托调解的，由仲裁庭审理，在审理期限内裁决结案（《劳动争议调解仲裁法》第43条）。",
    "sever_confirmation": "因确认劳动关系发生的争议不得委托调解；"
    "分出该项请求后，其余请求方可委托。",
    "consents": "双方当事人均自愿调解方可委托；在一张表单中同时记录申请人和被申请人的意愿。",
    "entrust_pre_filing": "审查符合条件且双方同意：选择工作室委托调解，受理审查暂停。",
    "entrust_post_filing": "已受理的案件经双方同意委托调解，仲裁审理期限继续计算。",
    "assign_mediator": "由工作室协调员或书记员从本工作室在册调解员中指派承办人。",
    "record_session": "调解员组织双方调解，每次会谈都要记录。",
    "sign_agreement": "达成一致的，双方当事人与调解员签名、调解组织盖章后协议生效（第14条）。",
    "sign_agreement_late": "调解期限已过但尚未记录调解不成的，双方仍可签订协议。",
    "fail_window_lapsed": "调解期限内未达成协议的，记录调解不成，案件回到仲裁程序。",
    "record_performance": "在协议履行期限内记录付款；全部履行完毕即为调解成功。",
    "record_performance_late": "履行期限已过但尚未记录调解不成的，全部履行仍为调解成功。",
    "fail_not_performed": "协议逾期未履行的，当事人可以依法申请仲裁（第15条）；记录调解不成。",
    "apply_review": "协议生效后，双方可在申请期限内共同申请仲裁审查，由仲裁委员会出具仲裁调解书。",
    "decide_review": "收到审查申请后，在期限内决定是否受理审查。",
    "issue_statement": "审查受理后，在审查期限内审查完毕并出具仲裁调解书。",
    "issue_statement_post": "立案后调解达成协议的，仲裁庭可以直接制作仲裁调解书。",
    "serve_statement": "仲裁调解书经双方当事人签收后发生法律效力（第42条）；逐一记录签收。",
    "verify_performance": "由书记员或工作室协调员回访核实（本案调解员不得自行核实），"
    "核实后计发成功补贴。",
    "close_after_success": "立案后调解成功的，以调解书或申请人撤回结案；审理期限至结案时止。",
    "acceptance_after_failure": "立案前调解不成的，暂缓受理结束，在剩余的受理审查期限内作出决定。",
    "award_after_failure": "立案后调解不成的，仲裁庭恢复审理，在审理期限内裁决结案。",
}

ENDED: Final[dict[str, str]] = {
    "not_accepted": "已决定不予受理，仲裁程序结束；"
    "申请人可以就该争议向人民法院提起诉讼（第29条）。",
    "closed": "本案已结案，无需再办理。",
    "succeeded": "调解成功，无需再办理。",
}

DEADLINE_STATE: Final[dict[str, str]] = {
    "on_time": "按期",
    "due_soon": "即将到期",
    "overdue": "已超期",
}

# one line beside each route of the entrustment form ({window}: the policy's window)
ROUTE_HINT: Final[dict[str, str]] = {
    "pre_filing": "尚未受理的案件先行调解，受理审查暂停（暂缓受理）；调解期限为委托之日起{window}，"
    "经双方同意可延长一次。",
    "post_filing": "已受理的案件经双方同意委托调解；调解期限为双方同意之日起{window}，"
    "仲裁审理期限继续计算。",
}

DAY_UNIT: Final[dict[str, str]] = {"calendar": "日", "working": "个工作日"}

# event fields that are only worth showing when true (the timeline hides them when false)
QUIET_FLAGS: Final[frozenset[str]] = frozenset(
    {
        "ends_mediation",
        "limitation_warning",
        "restores_agreement",
        "needs_verification",
        "reversed",
    }
)


def label(table: dict[str, str], code: object) -> str:
    """The Chinese label of a code, or the code itself when unknown."""
    if code is None:
        return "—"
    key = str(getattr(code, "value", code))
    return table.get(key, key)


# --- issue 12: messages, form fields and legal sources shown to users --------------------

# the legal texts the rules cite (errors.py, rules.py): names as users read them
LDMAL: Final = "《劳动争议调解仲裁法》"
PROCEDURE_RULES: Final = "《劳动人事争议仲裁办案规则》"
HUBEI: Final = "湖北省《“人社+工会”劳动争议裁调对接工作实施办法》(2023)"

# validation messages: one template per problem (``message(key, **values)``); the domain's
# validators and the web forms both raise these, the JSON API answers them as ``detail``
MESSAGE: Final[dict[str, str]] = {
    "required": "请填写此项",
    "choose": "请选择一项",
    "choose_one_of_yes_no": "请选择“是”或“否”",
    "bad_text": "不能含控制字符、文字方向控制符，也不能只有不可见字符",
    "too_long": "不能超过 {limit} 个字",
    "date": "日期格式应为 年-月-日，如 2026-03-02",
    "integer": "请填写整数",
    "format": "格式不正确，请核对",
    "amount": "金额应为非负数，最多两位小数，可用千分位逗号，如 12,800.00",
    "amount_negative": "金额不能为负数",
    "amount_decimals": "金额最多两位小数",
    "amount_too_large": "金额过大，请核对",
    "amount_required": "请填写金额（仅“确认劳动关系”请求可不填）",
    "claims_required": "请至少填写一项仲裁请求",
    "id_length": "公民身份号码应为 18 位，现为 {n} 位",
    "id_digits": "公民身份号码前 17 位应为数字",
    "id_check_char_kind": "公民身份号码最后一位应为数字或 X",
    "id_birth_date": "公民身份号码中的出生日期 {birth} 不是有效日期",
    "id_birth_early": "公民身份号码中的出生日期 {birth} 早于 1900 年",
    "id_born_after": "公民身份号码中的出生日期 {birth} 晚于收到申请日期 {on}",
    "id_area": "公民身份号码前 6 位地区码 {area} 不属于任何省份",
    "id_check_char": "公民身份号码校验位应为 {expected}，填写的是 {got}，请核对",
    "credit_length": "统一社会信用代码应为 18 位，现为 {n} 位",
    "credit_char": "统一社会信用代码第 {pos} 位“{ch}”不是允许的字符，请核对",
    "credit_check_char": "统一社会信用代码校验位应为 {expected}，填写的是 {got}，请核对",
    "phone": "请填写 11 位手机号码（1 开头，如 13912345678）或带区号的固定电话（如 027-88888888）",
    "region": "地区代码无效",
    "region_province": "案件须归属到市（州）或县（市、区），不能只填省",
    "region_outside": "该地区不在您的管辖范围内",
    "known_after_receipt": "知道权利被侵害之日不能晚于收到申请日期",
    "ended_after_receipt": "劳动关系终止之日不能晚于收到申请日期",
    "due_before_signing": "履行期限不能早于协议签订日期",
    "categories_required": "请至少选择一项要分出的请求类别",
    "option": "选项无效",
    "no_such_studio": "所选工作室不存在",
    "quota_range": "调解员名额应为 1 至 1000",
    "qualification": "请从列表中选择资格",
    "date_in_future": "{what}（{on}）晚于今天，业务日期不得晚于今天",
    "date_out_of_order": "{on} 早于{what}（{floor}）",
    "consent_missing": "尚未记录{parties}同意调解",
    "consent_stale": "前次调解已于 {on} 结束，此后尚未记录{parties}重新同意调解",
    "done": "已办理：{what}",
    "payments_short": "累计履行 {paid} 元，低于协议金额 {agreed} 元，且未填写劳动者书面确认",
    # issue 17: every party
    "party_required": "请至少填写一名{who}",
    "party_too_many": "每案{who}不超过 {limit} 名",
    "party_same_id": "第{a}名与第{b}名申请人的公民身份号码相同：同一人只列一次",
    "party_same_credit": "第{a}名与第{b}名被申请人的统一社会信用代码相同：同一单位只列一次",
    "party_forms_differ": "{who}与{who}列表的第一名不一致：两种写法只用一种，或保持一致",
    "representatives_required": "申请人共 {n} 名，共有仲裁请求，须从中推举一至五名代表人",
    "representatives_too_many": "代表人最多五名",
    "representatives_not_collective": "劳动者一方十人以上并有共同请求的，才推举代表人",
    "representative_unknown": "第{n}名代表人不是本案申请人",
    "representative_twice": "第{n}名代表人重复",
}


def message(key: str, **values: object) -> str:
    """A validation message of :data:`MESSAGE`, its blanks filled."""
    return MESSAGE[key].format(**values)


# what the form fields are called, for the list of problems at the top of a refused form
FORM_FIELD: Final[dict[str, str]] = {
    "region_code": "所属地区",
    "received_on": "收到申请日期",
    "applicant.name": "申请人姓名",
    "applicant.id_number": "公民身份号码",
    "applicant.phone": "联系电话",
    "applicant.worker_category": "劳动者类别",
    "respondent.name": "单位名称",
    "respondent.credit_code": "统一社会信用代码",
    "claims": "仲裁请求",
    "on": "日期",
    "held_on": "会谈日期",
    "signed_on": "签订日期",
    "applied_on": "申请日期",
    "issued_on": "出具日期",
    "appointed_on": "聘任日期",
    "retired_on": "解聘日期",
    "studio_id": "工作室",
    "mediator_id": "调解员",
    "qualification": "资格",
    "claim_categories": "请求类别",
    "duplicate_ok": "仍然登记",
}


def field_label(path: str) -> str:
    """The Chinese name of a form field (``claims.0.amount`` → 第1项请求金额)."""
    if path in FORM_FIELD:
        return FORM_FIELD[path]
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] in ("applicants", "respondents") and parts[1].isdigit():
        who = "申请人" if parts[0] == "applicants" else "被申请人"
        rest = ".".join(parts[2:])
        what = FORM_FIELD.get(f"{parts[0][:-1]}.{rest}") or FIELD.get(parts[-1], "")
        return f"第{int(parts[1]) + 1}名{who}{what.removeprefix(who)}"
    if len(parts) == 3 and parts[0] == "claims" and parts[1].isdigit():
        what = "请求类别" if parts[2] == "category" else "请求金额"
        return f"第{int(parts[1]) + 1}项{what}"
    return FIELD.get(parts[-1], "此项")


# the web pages' own words for situations outside any rule
PAGE: Final[dict[str, str]] = {
    "not_found": "未找到，或不在您的管辖范围内",
    "no_page": "没有这个页面",
    "no_page_detail": "地址可能有误，或页面已移动。请从导航进入。",
    "forbidden": "当前角色无权执行此操作",
    "forbidden_detail": "{role}不能办理此事项。如需办理，请联系有权限的同事。",
    "login": "请先登录",
    "invalid": "输入有误",
    "refused": "请求被拒绝",
    "not_assigned": "仅案件指派的调解员可执行此操作",
    "problems": "共 {n} 处需要修改，已在各项旁标出：",
    "duplicate_title": "可能重复登记",
    "duplicate": "同一劳动者（公民身份号码相同）对同一单位已有未结案件，见下方链接；"
    "如确属另一争议，请勾选“仍然登记”后再提交",
}


# --- "no English word" in front of users ------------------------------------------------

# ASCII that may stand in Chinese text: file formats, units, the X of an ID number
ALLOWED_ASCII: Final = frozenset(
    {"PDF", "CSV", "XLSX", "DOCX", "TOML", "UTF", "ID", "API", "X", "SVG", "GB", "T", "PRC"}
)
_ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")


def english_words(text: str, allowed: frozenset[str] = ALLOWED_ASCII) -> list[str]:
    """The ASCII words in ``text`` outside the allow-list (codes and units)."""
    return [w for w in _ASCII_WORD.findall(text) if w not in allowed]


def chinese_or_empty(text: str) -> str:
    """``text`` when a user can read it as Chinese; else "" (the Chinese title says it)."""
    return text if text and not english_words(text) else ""


# the access audit's record of a list or an export, for the auditor's page
QUERY_KEY: Final[dict[str, str]] = {
    "q": "检索词",
    "status": "状态",
    "region": "地区",
    "studio_id": "工作室",
    "studio": "工作室",
    "mediator_id": "调解员",
    "overdue": "仅看超期",
    "group_by": "分组",
    "from": "起",
    "to": "止",
    "as_of": "截至",
    "measure": "指标",
    "key": "分组键",
    "month": "月份",
    "case_id": "案件",
    "username": "账号",
    "on": "日期",
    "limit": "条数",
}

# the caseload measures a drill-down names
MEASURE: Final[dict[str, str]] = {
    "received": "收案",
    "entrusted": "委托调解",
    "concluded": "调解结案",
    "succeeded": "调解成功",
    "failed": "调解不成",
    "pending": "在调",
    "overdue": "超期",
}

PAGE_NAME: Final[dict[str, str]] = {
    "/clerk": "我的待办",
    "/queue": "我的调解案件",
    "/roster": "调解员名册",
    "/cases": "案件查询",
    "/dashboard": "统计分析",
    "/dashboard/cases": "统计明细",
    "/dashboard/caseload.csv": "统计下载（CSV）",
    "/dashboard/caseload.xlsx": "统计下载（XLSX）",
    "/subsidies": "办案补贴",
    "/audit": "访问审计",
}


def query_zh(route: str, query: str) -> str:
    """A recorded list or export (``GET /cases`` with ``status=received&overdue=1``) as an
    auditor reads it: 案件查询：状态=已收案；仅看超期=是. Unknown keys stay as they are."""
    path = route.removeprefix("GET ").strip()
    where = PAGE_NAME.get(path, "接口查询" if path.startswith("/api/") else "页面查询")
    parts = []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key == "status":
            value = STATUS.get(value, value)
        elif key == "group_by":
            value = GROUP_BY.get(value, value)
        elif key == "measure":
            value = MEASURE.get(value, value)
        elif key == "key" and value == "total":
            value = "合计"
        elif value in ("1", "true", "on"):
            value = "是"
        parts.append(f"{QUERY_KEY.get(key, key)}={value}")
    return where + ("：" + "；".join(parts) if parts else "")
