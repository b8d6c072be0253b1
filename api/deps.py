"""Dependencies: the running system, the current user, and the one gate every route passes.

The gate reads the route's action (``openapi_extra["x-action"]``) and answers, in the
contract's order: 401 (credentials), 404 (jurisdiction), 403 (role / assignment). Body
validation, idempotency, ``If-Match``, state and rules come after it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Protocol, TypeVar
from uuid import UUID

import sqlalchemy as sa
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.routing import BaseRoute

from api import authz
from api.errors import ApiError, not_found, unauthorized, validation
from api.security import LoginLimiter, TokenReader
from api.users import User, UserStore
from mediation.application import CommandContext, MediationApplication
from mediation.case import Case
from mediation.errors import NotFound
from mediation.organisation import Studio
from mediation.settings import Settings
from mediation.values import Actor

log = logging.getLogger("api")
T = TypeVar("T")


class SystemLike(Protocol):
    """What the API needs of ``projections.system.System``."""

    @property
    def app(self) -> MediationApplication: ...

    @property
    def engine(self) -> sa.Engine: ...

    def catch_up(self) -> int: ...

    def wait_for(self, position: int, timeout: float = 5.0) -> None: ...

    def lag(self) -> int: ...

    def close(self) -> None: ...

    def today(self) -> date: ...


@dataclass
class Runtime:
    system: SystemLike
    settings: Settings
    users: UserStore
    limiter: LoginLimiter
    tokens: TokenReader

    @property
    def app(self) -> MediationApplication:
        return self.system.app

    def today(self) -> date:
        return self.system.app.today()

    def after_write(self) -> None:
        """Read-your-writes: let the read models catch up with this thread's last save."""
        position = self.app.last_position()
        if position is None:
            return
        projected = self.app.projected_position()
        if projected is not None and projected >= position:
            return  # the in-process catch-up after the save already reached it
        try:
            self.system.wait_for(position, timeout=2.0)
        except Exception:  # a slow read model must not fail an acknowledged command
            log.warning("read models did not catch up with position %s in time", position)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def runtime_dep(request: Request) -> Runtime:
    """``async``: no I/O here, so no hop through the thread pool."""
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Access:
    """Who is asking, for what, and the resource the gate already loaded."""

    user: User
    action: str
    case: Case | None = None
    studio: Studio | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.user.username, self.user.role)

    @property
    def mask(self) -> bool:
        return authz.masked(self.user)


def _action_of(route: BaseRoute | None) -> str | None:
    extra: dict[str, Any] | None = getattr(route, "openapi_extra", None)
    return str(extra["x-action"]) if extra and "x-action" in extra else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def _loaded(get: Callable[[UUID], T], raw_id: object, what: str) -> T:
    """The aggregate a path names; 404 for a malformed id as for a missing one."""
    aggregate_id = _uuid(str(raw_id))
    if aggregate_id is None:
        raise not_found(f"no such {what}")
    try:
        return get(aggregate_id)
    except NotFound:
        raise not_found(f"no such {what}") from None


def authenticate(request: Request) -> User:
    runtime = runtime_of(request)
    token = _bearer(request)
    user = runtime.tokens.read(token) if token else None
    if user is None:
        raise unauthorized()
    request.state.user_role = user.role.value
    request.state.user = user  # the access log and the access audit name the user
    return user


def gate(request: Request) -> Access | None:
    """Credentials, jurisdiction and role for the route being called; None if unguarded."""
    action = _action_of(request.scope.get("route"))
    if action is None:
        return None
    user = authenticate(request)
    runtime = runtime_of(request)
    params = request.path_params
    if "case_id" in params:
        case = _loaded(runtime.app.get_case, params["case_id"], "case")
        if not isinstance(case, Case):
            raise not_found("no such case")
        authz.authorize_case(
            user,
            action,
            region_code=case.region_code,
            mediator_id=case.mediator_id,
            studio_id=case.studio_id,
        )
        request.state.case_region = case.region_code  # the access audit files reads by it
        return Access(user, action, case=case)
    if "studio_id" in params:
        studio = _loaded(runtime.app.get_studio, params["studio_id"], "studio")
        authz.authorize_studio(user, action, studio_id=studio.id, region_code=studio.region_code)
        return Access(user, action, studio=studio)
    region = request.query_params.get("region")
    if region is not None and region.isascii() and region.isdigit() and len(region) == 6:
        visible = (
            authz.studio_visible(user, region)
            if action.startswith("studio.")
            else authz.in_jurisdiction(user, region)
        )
        if not visible:
            raise not_found("no such region in your jurisdiction")
    authz.require_role(user, action)
    return Access(user, action)


def precheck(request: Request) -> None:
    """Run the gate for a request whose body or parameters failed to parse."""
    try:
        gate(request)
    except ApiError:
        raise
    except Exception:  # the validation error is the answer then
        log.debug("precheck could not run", exc_info=True)


def guarded(request: Request, _token: Annotated[str | None, Depends(oauth2)]) -> Access:
    access = gate(request)
    if access is None:  # pragma: no cover - every guarded route declares its action
        raise RuntimeError("route has no x-action")
    return access


AccessDep = Annotated[Access, Depends(guarded)]

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$')
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


async def command_context(
    access: AccessDep,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='the case version the command expects, as an ETag: "3"',
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="repeat-safe key, scoped to the user (1-200 visible ASCII characters)",
        ),
    ] = None,
) -> CommandContext:
    expected: int | None = None
    if if_match is not None and if_match.strip() != "*":
        m = _ETAG.match(if_match)
        if not m:
            raise validation('If-Match must be an ETag such as "3"', field="If-Match")
        expected = int(m.group(1))
    if idempotency_key is not None and not _KEY.match(idempotency_key):
        raise validation(
            "Idempotency-Key must be 1-200 visible ASCII characters", field="Idempotency-Key"
        )
    # the gate's copy of the case (or studio): the command decides on it instead of
    # loading it again; if it went stale meanwhile, the save loses the race and reloads
    loaded = access.case if access.case is not None else access.studio
    return CommandContext(access.actor, expected, idempotency_key or None, loaded=loaded)


ContextDep = Annotated[CommandContext, Depends(command_context)]


def action(name: str) -> dict[str, Any]:
    """``openapi_extra`` naming the route's row of the authorisation matrix."""
    a = authz.MATRIX[name]
    roles = {r.value: g.value for r, g in a.grants.items()}
    return {"x-action": name, "x-roles": roles}
