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


_READ_CASES = _row(Y, Y, A, Y, Y)
_STATS = _row(Y, Y, N, Y, Y)

ACTIONS: tuple[Action, ...] = (
    Action("me", "See my own account", "GET /me", _row(Y, Y, Y, Y, Y), False),
    Action(
        "case.list", "List cases (a mediator: only their own)", "GET /cases", _READ_CASES, False
    ),
    Action("case.read", "Read a case", "GET /cases/{id}", _READ_CASES, False),
    Action("case.history", "Read a case's history", "GET /cases/{id}/history", _READ_CASES, False),
    Action("case.create", "Register a new case", "POST /cases", _row(N, Y, N, N, N), True),
    Action(
        "case.assess",
        "Record the assessment",
        "POST /cases/{id}/assessment",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.consent",
        "Record or withdraw a party's consent",
        "POST /cases/{id}/consents",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.entrust",
        "Entrust the case to a studio",
        "POST /cases/{id}/entrustment",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.sever",
        "Sever claims into a new case",
        "POST /cases/{id}/severance",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.assign_mediator",
        "Assign a mediator",
        "POST /cases/{id}/mediator",
        _row(N, Y, N, Y, N),
        True,
    ),
    Action(
        "case.session",
        "Record a mediation session",
        "POST /cases/{id}/sessions",
        _row(N, N, A, N, N),
        True,
    ),
    Action(
        "case.window_extension",
        "Extend the mediation window",
        "POST /cases/{id}/window-extension",
        _row(N, Y, A, N, N),
        True,
    ),
    Action(
        "case.agreement",
        "Record the signed agreement",
        "POST /cases/{id}/agreement",
        _row(N, N, A, N, N),
        True,
    ),
    Action(
        "case.performance",
        "Record performance (payment)",
        "POST /cases/{id}/performance",
        _row(N, Y, A, N, N),
        True,
    ),
    Action(
        "case.review",
        "Record the application for arbitral review",
        "POST /cases/{id}/review",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.statement",
        "Record the issued arbitration statement",
        "POST /cases/{id}/statement",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.statement_service",
        "Record service of the statement on a party",
        "POST /cases/{id}/statement/service",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.statement_retraction",
        "Record a party retracting before service",
        "POST /cases/{id}/statement/retraction",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.failure",
        "Record that mediation failed",
        "POST /cases/{id}/failure",
        _row(N, Y, A, N, N),
        True,
    ),
    Action(
        "case.acceptance",
        "Decide acceptance",
        "POST /cases/{id}/acceptance",
        _row(N, Y, N, N, N),
        True,
    ),
    Action(
        "case.award_extension",
        "Extend the award period (chair's approval)",
        "POST /cases/{id}/award-extension",
        _row(N, Y, N, N, N),
        True,
    ),
    Action("case.closure", "Close the case", "POST /cases/{id}/closure", _row(N, Y, N, N, N), True),
    Action("studio.list", "List studios", "GET /studios", _row(Y, Y, Y, Y, Y), False),
    Action(
        "studio.read",
        "Read a studio and its roster",
        "GET /studios/{id}",
        _row(Y, Y, Y, Y, Y),
        False,
    ),
    Action("studio.create", "Register a studio", "POST /studios", _row(Y, N, N, N, N), True),
    Action(
        "studio.appoint",
        "Appoint a mediator",
        "POST /studios/{id}/mediators",
        _row(Y, N, N, Y, N),
        True,
    ),
    Action(
        "studio.retire",
        "Retire a mediator",
        "POST /studios/{id}/mediators/{mid}/retirement",
        _row(Y, N, N, Y, N),
        True,
    ),
    Action(
        "studio.close", "Close a studio", "POST /studios/{id}/closure", _row(Y, N, N, N, N), True
    ),
    Action(
        "stats.caseload",
        "Caseload statistics (JSON, CSV, XLSX)",
        "GET /stats/caseload",
        _STATS,
        False,
    ),
    Action(
        "stats.drilldown", "The cases behind a figure", "GET /stats/caseload/cases", _STATS, False
    ),
    Action("stats.subsidies", "Monthly subsidy statement", "GET /stats/subsidies", _STATS, False),
)

MATRIX: dict[str, Action] = {a.name: a for a in ACTIONS}

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


def authorize_case(user: User, action: str, *, region_code: str, mediator_id: UUID | None) -> None:
    """Jurisdiction (404), role (403), assignment (403 not_assigned_mediator)."""
    if not in_jurisdiction(user, region_code):
        raise not_found("no such case")
    if require_role(user, action) is Grant.ASSIGNED and (
        user.mediator_id is None or mediator_id != user.mediator_id
    ):
        raise not_assigned()


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
