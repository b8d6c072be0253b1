"""Errors raised by the domain and the application.

Each has a stable machine ``code`` (the HTTP contract's), an HTTP-independent ``kind``
and, for business rules, the legal ``source`` it enforces. The API maps ``kind`` to a
status code; the web pages show ``title_zh`` and ``source``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from mediation.labels import HUBEI, LDMAL, PROCEDURE_RULES

ErrorKind = Literal["rule", "transition", "conflict", "validation", "not_found", "forbidden"]


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = "rule"
    source: ClassVar[str] = ""
    title: ClassVar[str] = "Refused"
    title_zh: ClassVar[str] = "操作被拒绝"

    def __init__(self, detail: str = "", *, field: str | None = None) -> None:
        self.detail = detail or self.title
        self.field = field
        super().__init__(self.detail)


class RuleViolation(DomainError):
    kind = "rule"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    kind = "transition"
    title = "The command does not fit the case's current state"
    title_zh = "案件当前状态不允许此操作"


class VersionConflict(DomainError):
    code = "version_conflict"
    kind = "conflict"
    title = "The case has changed since the given version"
    title_zh = "案件已被他人修改，请刷新后重试"


class ValidationFailed(DomainError):
    code = "validation_error"
    kind = "validation"
    title = "Invalid input"
    title_zh = "输入有误"


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"
    title = "Not found"
    title_zh = "未找到"


class Forbidden(DomainError):
    code = "forbidden"
    kind = "forbidden"
    title = "Not allowed for this role"
    title_zh = "当前角色无权执行此操作"


class NotAssignedMediator(Forbidden):
    code = "not_assigned_mediator"
    title = "Only the mediator assigned to the case may do this"
    title_zh = "仅案件指派的调解员可执行此操作"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    kind = "validation"
    title = "This Idempotency-Key was already used with a different request"
    title_zh = "幂等键已用于另一请求"


# --- business rules -------------------------------------------------------------------


class LabourRelationshipNotEntrustable(RuleViolation):
    code = "labour_relationship_not_entrustable"
    source = f"{HUBEI}：因确认劳动关系发生的争议不得委托调解"
    title = "A dispute over confirmation of a labour relationship may not be entrusted"
    title_zh = "因确认劳动关系发生的争议不得委托调解；可先将该项请求分案"


class NotEligibleForEntrustment(RuleViolation):
    code = "not_eligible_for_entrustment"
    source = f"{HUBEI}：属于仲裁范围、符合受理条件、适宜调解解决"
    title = (
        "Entrustment needs an assessment that the case is within scope, meets the "
        "acceptance conditions and is suitable for mediation"
    )
    title_zh = "委托调解须经审查：属于仲裁范围、符合受理条件且适宜调解"


class ConsentMissing(RuleViolation):
    code = "consent_missing"
    source = (
        f"{HUBEI}：双方当事人自愿；{LDMAL}第14条；{PROCEDURE_RULES}第70条"
        "（同意调解仅对一次调解有效）"
    )
    title = "Both parties must consent to this mediation (a new one needs fresh consents)"
    title_zh = "委托调解须双方当事人自愿同意；前次调解结束后重新委托须再次同意"


class StudioOutsideJurisdiction(RuleViolation):
    code = "studio_outside_jurisdiction"
    source = HUBEI
    title = "The studio does not cover the case's region"
    title_zh = "所选工作室的辖区不包含本案所属地区"


class StudioInactive(RuleViolation):
    code = "studio_inactive"
    source = HUBEI
    title = "The studio is not active on that date"
    title_zh = "所选工作室在该日期未运行（未设立或已撤销）"


class MediatorNotOnRoster(RuleViolation):
    code = "mediator_not_on_roster"
    source = f"{HUBEI}：调解员选聘"
    title = "The mediator is not an active member of the studio's roster on that date"
    title_zh = "该调解员在该日期不是本工作室在册调解员"


class MediatorQuotaExceeded(RuleViolation):
    code = "mediator_quota_exceeded"
    source = f"{HUBEI}：调解员选聘；名额按现行政策配置"
    title = "The studio's mediator quota is full"
    title_zh = "工作室调解员名额已满"


class DateOutOfOrder(RuleViolation):
    code = "date_out_of_order"
    source = "办案程序的先后顺序：任何环节的日期不得早于收案日期或其前一环节"
    title = "The date is earlier than a step it must follow"
    title_zh = "日期早于本案前一环节的日期"


class DateInFuture(RuleViolation):
    code = "date_in_future"
    source = "业务日期记录已经发生的事实，不得预先填写"
    title = "A business date may not be later than today"
    title_zh = "业务日期不得晚于今天"


class ReviewWindowExpired(RuleViolation):
    code = "review_window_expired"
    source = f"{PROCEDURE_RULES}第74条：调解协议生效之日起15日内共同申请仲裁审查"
    title = "Arbitral review must be applied for within 15 days of the agreement taking effect"
    title_zh = "仲裁审查须在调解协议生效之日起15日内申请"


class ReviewNotApplicable(RuleViolation):
    code = "review_not_applicable"
    source = f"{PROCEDURE_RULES}第74—77条：仲裁前调解协议的仲裁审查"
    title = "Arbitral review applies to pre-filing agreements, once"
    title_zh = "仲裁审查仅适用于立案前调解达成的协议，且只能申请一次"


class ReviewNotApplied(RuleViolation):
    code = "review_not_applied"
    source = f"{PROCEDURE_RULES}第74—77条：仲裁前调解协议的仲裁审查"
    title = "On the pre-filing route a statement needs an arbitral-review application first"
    title_zh = "立案前调解的协议须先申请仲裁审查，方可出具仲裁调解书"


class StatementAlreadyServed(RuleViolation):
    code = "statement_already_served"
    source = f"{LDMAL}第42条：调解书经双方当事人签收后发生法律效力"
    title = "The statement has already been served on that party (or both); it cannot be retracted"
    title_zh = "仲裁调解书已送达签收，不能反悔"


class PaymentExceedsAgreement(RuleViolation):
    code = "payment_exceeds_agreement"
    source = f"{LDMAL}第14—15条：调解协议的履行"
    title = "Payments would exceed the agreed amount"
    title_zh = "履行金额累计超过协议金额"


class SeveranceInvalid(RuleViolation):
    code = "severance_invalid"
    source = f"{HUBEI}：确认劳动关系争议不得委托调解，可将其他请求分案后委托"
    title = "Severance must name claim categories of the case and leave at least one claim"
    title_zh = "分案须指定本案已有的请求类别，且原案至少保留一项请求"


class ReasonRequired(RuleViolation):
    code = "reason_required"
    source = f"{PROCEDURE_RULES}：决定不予受理的，应当说明理由"
    title = "A reason is required"
    title_zh = "须填写理由"


class WindowExtensionNotAllowed(RuleViolation):
    code = "window_extension_not_allowed"
    source = f"{LDMAL}第14条：经双方当事人同意可以延长调解期限；延长一次，天数按现行政策"
    title = "The mediation window can be extended once, on the pre-filing route, within the limit"
    title_zh = "立案前调解期限仅可经双方同意延长一次且不超过规定天数"


class AwardExtensionNotAllowed(RuleViolation):
    code = "award_extension_not_allowed"
    source = f"{LDMAL}第43条：经仲裁委员会主任批准可以延期，延长期限不得超过15日"
    title = "The award period can be extended once by at most 15 days with the chair's approval"
    title_zh = "审理期限经主任批准可延长一次，且不超过15日"


# --- v1.1, law-b: review stage, retraction, severance, closure (brief section 8) -------

RULES_ART_74_79 = f"{PROCEDURE_RULES}第74—79条"


class ReviewNotStanding(RuleViolation):
    code = "review_not_standing"
    source = f"{RULES_ART_74_79}：仲裁审查申请被不予受理或撤回的，调解协议继续有效"
    title = "The arbitral review was refused or withdrawn; no statement can be issued on it"
    title_zh = "仲裁审查申请已被不予受理或已撤回，不能出具仲裁调解书"


class DispositionNotAllowed(RuleViolation):
    code = "disposition_not_allowed"
    source = f"{LDMAL}第41—42条：仲裁中调解成功的，以调解书结案或申请人撤回申请结案"
    title = (
        "A post-filing success is closed by its mediation statement or by withdrawal; "
        "'mediation_statement' closes only a success"
    )
    title_zh = "调解成功的仲裁案件以调解书结案或申请人撤回结案"


LAW_B_RULES: tuple[type[RuleViolation], ...] = (ReviewNotStanding, DispositionNotAllowed)
# --- law-a (issue 15): binding agreements, performance, verification --------------------


class AgreementBinding(RuleViolation):
    code = "agreement_binding"
    source = f"{LDMAL}第14—15条：调解协议书生效后对双方当事人具有约束力"
    title = "A signed agreement binds both parties: consent can no longer be withdrawn"
    title_zh = "调解协议已生效，对双方具有约束力，不能再撤回调解意愿"


class AgreementNotYetDue(RuleViolation):
    code = "agreement_not_yet_due"
    source = f"{LDMAL}第15条：达成调解协议后，一方当事人在协议约定期限内不履行的，另一方可申请仲裁"
    title = (
        "A failure after signing may be recorded only from the performance due date on, "
        "or when a party declared in writing that it will not perform"
    )
    title_zh = "协议履行期限未届满，仅在一方书面明确表示不履行时方可记录调解不成"


class AgreementNotSigned(RuleViolation):
    code = "agreement_not_signed"
    source = f"{LDMAL}第14条：双方当事人签名或者盖章，经调解员签名并加盖调解组织印章后生效"
    title = (
        "An agreement takes effect only when both parties and the mediator signed and it is sealed"
    )
    title_zh = "调解协议书须经双方当事人、调解员签名并加盖调解组织印章方生效"


class PerformanceIncomplete(RuleViolation):
    code = "performance_incomplete"
    source = f"{HUBEI}：履行完毕，指协议金额已全部付清，或劳动者书面确认协议内容已履行"
    title = (
        "Performance is complete only when the agreed amount is paid in full or the worker "
        "confirmed it in writing"
    )
    title_zh = "履行金额未达协议金额，且无劳动者书面确认，不能认定履行完毕"


class VerifierIsMediator(Forbidden):
    code = "forbidden"
    title = "Performance is verified by a clerk or coordinator, never by the case's mediator"
    title_zh = "履行情况须由书记员或工作室负责人回访核实，本案调解员不得自行核实"


RULES: tuple[type[RuleViolation], ...] = (
    LabourRelationshipNotEntrustable,
    NotEligibleForEntrustment,
    ConsentMissing,
    StudioOutsideJurisdiction,
    StudioInactive,
    MediatorNotOnRoster,
    MediatorQuotaExceeded,
    DateOutOfOrder,
    DateInFuture,
    ReviewWindowExpired,
    ReviewNotApplicable,
    ReviewNotApplied,
    StatementAlreadyServed,
    PaymentExceedsAgreement,
    SeveranceInvalid,
    ReasonRequired,
    WindowExtensionNotAllowed,
    AwardExtensionNotAllowed,
    *LAW_B_RULES,
    # law-a
    AgreementBinding,
    AgreementNotYetDue,
    AgreementNotSigned,
    PerformanceIncomplete,
)


# --- brief §8 rules 1, 9, 10, 11, 15, 16 (issue 15, law-c): consent per mediation,
# window extension by agreement, mediation bodies, recusal and transfer, appointment ---


class ExtensionNeedsBothParties(RuleViolation):
    code = "extension_needs_both_parties"
    source = f"{LDMAL}第14条：经双方当事人同意可以延长调解期限"
    title = "A mediation window extension needs both parties' agreement, recorded by the clerk"
    title_zh = "延长调解期限须经双方当事人同意，由仲裁委工作人员记录"


class NotAMediationBody(RuleViolation):
    code = "not_a_mediation_body"
    source = f"{HUBEI}：仅裁调对接工作室与工会法律服务工作站受托调解"
    title = "An arbitration outpost is not a mediation body: no entrusted cases, no mediators"
    title_zh = "仲裁驻庭不是调解组织，不得受托调解案件，也不配备调解员"


class MediatorNotActive(RuleViolation):
    code = "mediator_not_active"
    source = f"{HUBEI}：调解员选聘与管理"
    title = "A mediator acts only while appointed: nothing may be recorded after retirement"
    title_zh = "调解员已解聘（退出），不能再办理或记录任何事项"


class TransferInvalid(RuleViolation):
    code = "transfer_invalid"
    source = f"{HUBEI}：同一次调解中可移送其他调解组织，调解期限不变"
    title = "A case is transferred to another studio than the one it is with"
    title_zh = "移送须移至本案当前工作室以外的工作室"


RULES += (ExtensionNeedsBothParties, NotAMediationBody, MediatorNotActive, TransferInvalid)


# --- issue 17: several parties, collective disputes ---------------------------------------

LDMAL_7 = (
    "《劳动争议调解仲裁法》第7条：劳动者一方在十人以上并有共同请求的，可以推举代表参加调解、仲裁"
    "或者诉讼活动（接口约定：集体劳动争议须推举一至五名代表人）"
)


class RepresentativesRequired(RuleViolation):
    code = "representatives_required"
    source = LDMAL_7
    title = "A collective dispute (ten or more workers, a common claim) names 1-5 representatives"
    title_zh = "劳动者一方在十人以上并有共同请求的集体劳动争议，须推举一至五名代表人"


class RepresentativesInvalid(RuleViolation):
    code = "representatives_invalid"
    source = LDMAL_7
    title = (
        "Representatives are named by a collective dispute only: at most five different "
        "applicants of the case"
    )
    title_zh = "代表人须为本案申请人，不得重复，最多五名，且仅集体劳动争议推举代表人"
