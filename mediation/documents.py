"""The documents a case may issue (文书), and when: each kind's rule, named, with its source.

A kind that does not fit the case's state is refused with ``invalid_transition`` (409), as
the contract says; each rule below answers "may this kind be issued now?" from the case's
recorded state only. ``docs/documents.md`` prints the same table.

The seven kinds of contract v1.1 ("The official record") and the law they follow
(``shared/domain/documents.md``):

=======================  ================================================  ==================
kind                     may be issued when                                 legal basis
=======================  ================================================  ==================
mediation_suggestion     received, before the acceptance decision, and the  LDMAL arts. 3, 29;
                         claims may be entrusted (not 确认劳动关系)         Rules art. 69
entrustment_letter       entrusted or in mediation (either route)          Rules arts. 69-70;
                                                                           LDMAL art. 14
mediation_agreement      an agreement is signed and in force (signed,      LDMAL arts. 14-16
                         succeeded, or closed after that success)
mediation_ended_notice   the latest mediation ended without success        LDMAL art. 14 ¶3
                         (mediation failed, or decided/closed after it)
acceptance_notice        the case was accepted (立案), whatever came after  LDMAL arts. 29-30;
                                                                           Rules art. 30
non_acceptance_notice    the case was not accepted                          LDMAL art. 29;
                                                                           Rules art. 31
service_receipt          some other document of the case was issued        Rules art. 20
=======================  ================================================  ==================

Who: a clerk issues any kind; the case's own mediator (the studio's documents) only
``mediation_agreement`` and ``mediation_ended_notice`` (``MEDIATOR_KINDS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from mediation.errors import InvalidTransition, LabourRelationshipNotEntrustable
from mediation.values import Assessment, Claim, ClaimCategory, Route, Status, SuccessBranch


class DocumentKind(StrEnum):
    MEDIATION_SUGGESTION = "mediation_suggestion"
    ENTRUSTMENT_LETTER = "entrustment_letter"
    MEDIATION_AGREEMENT = "mediation_agreement"
    MEDIATION_ENDED_NOTICE = "mediation_ended_notice"
    ACCEPTANCE_NOTICE = "acceptance_notice"
    NON_ACCEPTANCE_NOTICE = "non_acceptance_notice"
    SERVICE_RECEIPT = "service_receipt"


# the case's mediator issues the studio's own documents (contract v1.1)
MEDIATOR_KINDS = frozenset({DocumentKind.MEDIATION_AGREEMENT, DocumentKind.MEDIATION_ENDED_NOTICE})

# issued in the studio's name rather than the commission's
STUDIO_KINDS = MEDIATOR_KINDS

# the category word of each kind's 文号 (documents.md §10: 省简称+机关代字+类别字〔年〕第N号)
NUMBER_CATEGORY: dict[DocumentKind, str] = {
    DocumentKind.MEDIATION_SUGGESTION: "建",
    DocumentKind.ENTRUSTMENT_LETTER: "委调",
    DocumentKind.MEDIATION_AGREEMENT: "调协",
    DocumentKind.MEDIATION_ENDED_NOTICE: "终调",
    DocumentKind.ACCEPTANCE_NOTICE: "受",
    DocumentKind.NON_ACCEPTANCE_NOTICE: "不",
    DocumentKind.SERVICE_RECEIPT: "送",
}


@dataclass(frozen=True)
class IssuedDocument:
    """One issued document as the case records it (``Case.DocumentIssued``)."""

    document_id: UUID
    kind: DocumentKind
    number: str
    issued_on: date
    sha256: str
    pages: int
    verification_code: str
    issuing_body: str
    issued_by: str  # the user who issued it
    case_version: int  # the case's version that recorded it (its facts: the version before)


class CaseState(Protocol):
    """What the rules read of a case (``mediation.case.Case`` has all of it)."""

    status: Status
    route: Route | None
    claims: list[Claim]
    assessment: Assessment | None
    accepted_on: date | None
    outcome: SuccessBranch | None
    mediations_ended: int
    mediation_ended_on: date | None
    entrusted_on: date | None
    documents: list[IssuedDocument]


# --- the rules, one per kind --------------------------------------------------------------


def suggestion_fits(case: CaseState) -> bool:
    """调解建议书: after receipt, before the acceptance decision (LDMAL art. 29), pre-filing."""
    return case.status is Status.RECEIVED


def entrustment_letter_fits(case: CaseState) -> bool:
    """委托调解函: the case is entrusted to a studio and the mediation runs (Rules arts. 69-70)."""
    return case.status in (Status.ENTRUSTED, Status.IN_MEDIATION)


def agreement_fits(case: CaseState) -> bool:
    """调解协议书: an agreement was signed and is in force (LDMAL art. 14)."""
    if case.status in (Status.AGREEMENT_SIGNED, Status.SUCCEEDED):
        return True
    return case.status is Status.CLOSED and case.outcome is not None


def ended_notice_fits(case: CaseState) -> bool:
    """终止调解告知书: the latest mediation ended without success (LDMAL art. 14 ¶3); also
    after the acceptance decision or closure that followed it, never during a new one."""
    if case.status is Status.MEDIATION_FAILED:
        return True
    ended = case.mediation_ended_on
    if case.mediations_ended == 0 or ended is None or case.entrusted_on is None:
        return False
    return case.status in (
        Status.ACCEPTED,
        Status.NOT_ACCEPTED,
        Status.CLOSED,
    ) and (case.entrusted_on <= ended and case.outcome is None)


def acceptance_notice_fits(case: CaseState) -> bool:
    """受理通知书: the commission accepted the case (LDMAL art. 29; Rules art. 30)."""
    return case.accepted_on is not None and case.status is not Status.NOT_ACCEPTED


def non_acceptance_notice_fits(case: CaseState) -> bool:
    """不予受理通知书: the commission decided not to accept (LDMAL art. 29; Rules art. 31)."""
    return case.status is Status.NOT_ACCEPTED


def service_receipt_fits(case: CaseState) -> bool:
    """送达回证: there is a document of the case to serve (Rules art. 20)."""
    return any(d.kind is not DocumentKind.SERVICE_RECEIPT for d in case.documents)


FITS: dict[DocumentKind, Callable[[CaseState], bool]] = {
    DocumentKind.MEDIATION_SUGGESTION: suggestion_fits,
    DocumentKind.ENTRUSTMENT_LETTER: entrustment_letter_fits,
    DocumentKind.MEDIATION_AGREEMENT: agreement_fits,
    DocumentKind.MEDIATION_ENDED_NOTICE: ended_notice_fits,
    DocumentKind.ACCEPTANCE_NOTICE: acceptance_notice_fits,
    DocumentKind.NON_ACCEPTANCE_NOTICE: non_acceptance_notice_fits,
    DocumentKind.SERVICE_RECEIPT: service_receipt_fits,
}


def require_document_fits(kind: DocumentKind, case: CaseState) -> None:
    """409 ``invalid_transition`` when the kind does not fit the case's state; for a
    mediation suggestion also the confirmation rule (422), as for an entrustment."""
    if not FITS[kind](case):
        raise InvalidTransition(
            f"a {kind.value} cannot be issued while the case is {case.status.value}"
        )
    if kind is DocumentKind.MEDIATION_SUGGESTION and any(
        c.category is ClaimCategory.LABOUR_RELATIONSHIP_CONFIRMATION for c in case.claims
    ):
        raise LabourRelationshipNotEntrustable(
            "a case with a labour-relationship confirmation claim is not suggested for mediation"
        )


def issuable(case: CaseState, kinds: Sequence[DocumentKind] = tuple(DocumentKind)) -> list[str]:
    """The kinds that may be issued now (the case page offers these)."""
    out = []
    for kind in kinds:
        try:
            require_document_fits(kind, case)
        except (InvalidTransition, LabourRelationshipNotEntrustable):
            continue
        out.append(kind.value)
    return out
