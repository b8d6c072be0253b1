"""Authorisation as data, enforced in one place.

Three questions, always asked in this order (the contract's order of checks):

1. **Jurisdiction** — a user of region ``420100`` acts on cases whose region code starts with
   ``4201`` (``mediation.regions.covers``). Outside it a case does not exist: 404 ``not_found``.
2. **Role** — the matrix below says which role may do what. Not allowed: 403 ``forbidden``.
3. **Assignment** — where the matrix says ``assigned``, a mediator acts only on cases assigned
   to them: 403 ``not_assigned_mediator``.

Auditors read everything in their region, change nothing, and see personal data masked.
``docs/api.md`` prints :data:`MATRIX` as a table (``python -m api.authz`` regenerates it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from api.errors import forbidden, not_assigned, not_found
from api.users import User
from mediation.regions import covers
from mediation.values import Role


class Grant(StrEnum):
    NO = "no"
    YES = "yes"
    ASSIGNED = "assigned"  # a mediator, only on cases assigned to them


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    endpoint: str
    grants: dict[Role, Grant]
    changes: bool  # True for commands (never allowed to auditors)


Y, N, A = Grant.YES, Grant.NO, Grant.ASSIGNED
R = Role


def _row(
    admin: Grant, clerk: Grant, mediator: Grant, coordinator: Grant, auditor: Grant
) -> dict[Role, Grant]:
    return {
        R.ADMIN: admin,
        R.CLERK: clerk,
        R.MEDIATOR: mediator,
        R.COORDINATOR: coordinator,
        R.AUDITOR: auditor,
    }


# who may: (admin, clerk, mediator, coordinator, auditor); a mediator's A: own cases only
EVERYONE = _row(Y, Y, Y, Y, Y)
READERS = _row(Y, Y, A, Y, Y)
ANALYSTS = _row(Y, Y, N, Y, Y)
ADMIN = _row(Y, N, N, N, N)
ADMIN_COORD = _row(Y, N, N, Y, N)
CLERK = _row(N, Y, N, N, N)
CLERK_COORD = _row(N, Y, N, Y, N)
CLERK_MED = _row(N, Y, A, N, N)
MEDIATOR = _row(N, N, A, N, N)
AUDIT = _row(Y, N, N, N, Y)
# a document's PDF shows the parties unmasked: never to an auditor (who sees them masked)
DOCUMENT_READERS = _row(N, Y, A, Y, N)


def _actions(*rows: tuple[str, str, dict[Role, Grant], str]) -> tuple[Action, ...]:
    """(name, endpoint, who may, what); a POST changes something."""
    return tuple(Action(n, what, e, who, e.startswith("POST ")) for n, e, who, what in rows)


# fmt: off
ACTIONS: tuple[Action, ...] = _actions(
    ("me", "GET /me", EVERYONE, "See my own account"),
    ("case.list", "GET /cases", READERS, "List cases (a mediator: only their own)"),
    ("case.read", "GET /cases/{id}", READERS, "Read a case"),
    ("case.history", "GET /cases/{id}/history", READERS, "Read a case's history"),
    ("case.create", "POST /cases", CLERK, "Register a new case"),
    ("case.assess", "POST /cases/{id}/assessment", CLERK, "Record the assessment"),
    ("case.consent", "POST /cases/{id}/consents", CLERK, "Record or withdraw a party's consent"),
    ("case.entrust", "POST /cases/{id}/entrustment", CLERK, "Entrust the case to a studio"),
    ("case.sever", "POST /cases/{id}/severance", CLERK, "Sever claims into a new case"),
    ("case.assign_mediator", "POST /cases/{id}/mediator", CLERK_COORD, "Assign a mediator"),
    ("case.session", "POST /cases/{id}/sessions", MEDIATOR, "Record a mediation session"),
    ("case.window_extension", "POST /cases/{id}/window-extension", CLERK,
     "Extend the mediation window (both parties agreed)"),
    ("case.agreement", "POST /cases/{id}/agreement", MEDIATOR, "Record the signed agreement"),
    ("case.performance", "POST /cases/{id}/performance", CLERK_MED, "Record performance (payment)"),
    ("case.review", "POST /cases/{id}/review", CLERK, "Record the application for arbitral review"),
    ("case.statement", "POST /cases/{id}/statement", CLERK,
     "Record the issued arbitration statement"),
    ("case.statement_service", "POST /cases/{id}/statement/service", CLERK,
     "Record service of the statement on a party"),
    ("case.statement_retraction", "POST /cases/{id}/statement/retraction", CLERK,
     "Record a party retracting before service"),
    ("case.failure", "POST /cases/{id}/failure", CLERK_MED, "Record that mediation failed"),
    ("case.acceptance", "POST /cases/{id}/acceptance", CLERK, "Decide acceptance"),
    ("case.award_extension", "POST /cases/{id}/award-extension", CLERK,
     "Extend the award period (chair's approval)"),
    ("case.closure", "POST /cases/{id}/closure", CLERK, "Close the case"),
    ("case.review_decision", "POST /cases/{id}/review/decision", CLERK,
     "Record the decision on the review application"),
    ("case.review_withdrawal", "POST /cases/{id}/review/withdrawal", CLERK,
     "Record the withdrawal of the review application"),
    ("case.recusal", "POST /cases/{id}/recusal", CLERK_COORD, "Record a mediator's recusal"),
    ("case.transfer", "POST /cases/{id}/transfer", CLERK, "Transfer to another studio"),
    ("case.performance_verification", "POST /cases/{id}/performance/verification", CLERK_COORD,
     "Verify complete performance (never the case's mediator)"),
    ("case.document_issue", "POST /cases/{id}/documents", CLERK_MED,
     "Issue a document (a mediator: agreement, ended notice)"),
    ("case.documents", "GET /cases/{id}/documents", READERS, "List a case's documents"),
    ("case.document_read", "GET /cases/{id}/documents/{doc}.pdf|.docx", DOCUMENT_READERS,
     "Download a document (PDF as issued, DOCX)"),
    ("studio.list", "GET /studios", EVERYONE, "List studios"),
    ("studio.read", "GET /studios/{id}", EVERYONE, "Read a studio and its roster"),
    ("studio.create", "POST /studios", ADMIN, "Register a studio"),
    ("studio.appoint", "POST /studios/{id}/mediators", ADMIN_COORD, "Appoint a mediator"),
    ("studio.retire", "POST /studios/{id}/mediators/{mid}/retirement", ADMIN_COORD,
     "Retire a mediator"),
    ("studio.close", "POST /studios/{id}/closure", ADMIN, "Close a studio"),
    ("stats.caseload", "GET /stats/caseload", ANALYSTS, "Caseload statistics (JSON, CSV, XLSX)"),
    ("stats.drilldown", "GET /stats/caseload/cases", ANALYSTS, "The cases behind a figure"),
    ("stats.subsidies", "GET /stats/subsidies", ANALYSTS, "Monthly subsidy statement"),
    ("audit.access", "GET /audit/access", AUDIT, "Who read which case, searched or exported"),
    ("audit.unusual", "GET /audit/unusual", AUDIT, "Unusual reading on a day"),
)
# fmt: on

MATRIX: dict[str, Action] = {a.name: a for a in ACTIONS}

# actions the case's own mediator never does, whatever their role (brief 8.4)
SELF_CERTIFICATION = frozenset({"case.performance_verification"})

# roles that see applicants' personal data masked
MASKED_ROLES = frozenset({Role.AUDITOR})


def in_jurisdiction(user: User, region_code: str) -> bool:
    return covers(user.region_code, region_code)


def grant(user: User, action: str) -> Grant:
    return MATRIX[action].grants.get(user.role, Grant.NO)


def require_role(user: User, action: str) -> Grant:
    g = grant(user, action)
    if g is Grant.NO:
        raise forbidden(f"a {user.role.value} may not do this ({action})")
    return g


def authorize_case(
    user: User,
    action: str,
    *,
    region_code: str,
    mediator_id: UUID | None,
    studio_id: UUID | None = None,
) -> None:
    """Jurisdiction (404), role (403), assignment (403 not_assigned_mediator).

    A coordinator acts only for their own studio's cases (brief §8 rule 16): a command on
    a case entrusted to another studio is outside their jurisdiction (404).
    """
    if not in_jurisdiction(user, region_code):
        raise not_found("no such case")
    if (
        user.role is Role.COORDINATOR
        and MATRIX[action].changes
        and studio_id is not None
        and studio_id != user.studio_id
    ):
        raise not_found("no such case")
    if require_role(user, action) is Grant.ASSIGNED and (
        user.mediator_id is None or mediator_id != user.mediator_id
    ):
        raise not_assigned()
    if (
        action in SELF_CERTIFICATION
        and user.mediator_id is not None
        and (user.mediator_id == mediator_id)
    ):
        raise forbidden("the case's mediator does not verify their own case")


def studio_visible(user: User, studio_region: str) -> bool:
    """A studio in the user's region, or one whose area covers the user's region."""
    return covers(user.region_code, studio_region) or covers(studio_region, user.region_code)


def authorize_studio(user: User, action: str, *, studio_id: UUID, region_code: str) -> None:
    if not studio_visible(user, region_code):
        raise not_found("no such studio")
    require_role(user, action)
    if MATRIX[action].changes:
        if not in_jurisdiction(user, region_code):
            raise forbidden("the studio is run from outside your jurisdiction")
        if user.role is Role.COORDINATOR and user.studio_id and user.studio_id != studio_id:
            raise forbidden("a coordinator manages only their own studio")


def masked(user: User) -> bool:
    return user.role in MASKED_ROLES


SYMBOL = {Grant.YES: "✔ yes", Grant.NO: "—", Grant.ASSIGNED: "own cases only"}
ROLES = (R.ADMIN, R.CLERK, R.MEDIATOR, R.COORDINATOR, R.AUDITOR)


def matrix_markdown() -> str:
    head = "| what | endpoint | " + " | ".join(r.value for r in ROLES) + " |"
    sep = "|---|---|" + "|".join(":-:" for _ in ROLES) + "|"
    rows = [
        f"| {a.label} | `{a.endpoint}` | "
        + " | ".join(SYMBOL[a.grants.get(r, Grant.NO)] for r in ROLES)
        + " |"
        for a in ACTIONS
    ]
    return "\n".join([head, sep, *rows])


if __name__ == "__main__":  # pragma: no cover
    print(matrix_markdown())
