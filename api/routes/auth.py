"""Log in (OAuth2 password form → bearer token), log out, "who am I", withdrawing an account.

``POST /users/{username}/disable`` and ``/enable`` are for admins, inside their region: the
checks run in the contract's order — credentials (401), the account outside the admin's
region or missing (404), not an admin (403). A disabled account's tokens are refused from
the next request on (its credential version moves on).
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api import authz
from api.deps import AccessDep, Runtime, RuntimeDep, action, authenticate
from api.errors import ApiError, forbidden, not_found
from api.login import log_in
from api.routes.common import json_response
from api.schemas import Me, Token
from api.security import issue_token
from api.users import Account, NoSuchUser, User, WeakPasswordError
from mediation.values import Role

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _problem(description: str) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {"application/problem+json": {"schema": ref}}}


def _refuse_if_throttled(retry_after: int | None, title: str) -> None:
    """429 with ``Retry-After`` while the login throttle holds this username and client."""
    if retry_after is not None:
        raise ApiError(
            429,
            "too_many_attempts",
            title,
            f"try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


@router.post(
    "/auth/token",
    response_model=Token,
    summary="Log in with the OAuth2 password form; failed attempts are throttled",
    responses={
        401: {"description": "wrong username or password, or a disabled account"},
        429: {"description": "too many failed attempts from this client; see Retry-After"},
    },
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    runtime: RuntimeDep,
) -> Response:
    outcome = log_in(runtime, request, form.username, form.password)
    _refuse_if_throttled(outcome.retry_after, "Too many failed login attempts")
    if outcome.user is None:
        raise ApiError(
            401,
            "invalid_credentials",
            "Wrong username or password",
            "wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, lifetime = issue_token(outcome.user, runtime.settings)
    return json_response(Token(access_token=token, expires_in=lifetime))


@router.get("/me", response_model=Me, summary="The current user", openapi_extra=action("me"))
def me(access: AccessDep) -> Response:
    u = access.user
    return json_response(
        Me(
            username=u.username,
            role=u.role.value,
            region_code=u.region_code,
            studio_id=u.studio_id,
            mediator_id=u.mediator_id,
        )
    )


@router.post(
    "/auth/logout",
    status_code=204,
    summary="Log out: every token of the caller's account is refused from then on",
    responses={401: _problem("no or bad credentials (`unauthorized`)")},
    openapi_extra={"x-roles": {r.value: "yes" for r in Role if r is not Role.SYSTEM}},
)
def logout(caller: Annotated[User, Depends(authenticate)], runtime: RuntimeDep) -> Response:
    with contextlib.suppress(NoSuchUser):  # deleted meanwhile
        runtime.users.log_out(caller.username, actor=caller.username)
    return Response(status_code=204)


class AccountOut(BaseModel):
    username: str
    role: str
    region_code: str
    studio_id: UUID | None
    mediator_id: UUID | None
    disabled: bool
    credential_version: int


def _out(account: Account) -> AccountOut:
    u = account.user
    return AccountOut(
        username=u.username,
        role=u.role.value,
        region_code=u.region_code,
        studio_id=u.studio_id,
        mediator_id=u.mediator_id,
        disabled=account.disabled,
        credential_version=u.credential_version,
    )


USERNAME = Path(min_length=1, max_length=64, description="the account's username")
ACCOUNT_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("no or bad credentials (`unauthorized`)"),
    403: _problem("only an admin may do this (`forbidden`)"),
    404: _problem("no such user in your region (`not_found`)"),
    422: _problem("an admin may not disable their own account (`cannot_disable_self`)"),
}


def change_disabled(runtime: Runtime, admin: User, username: str, disabled: bool) -> Account:
    """Disable or enable ``username`` for ``admin``: the API's and the admin page's rules.

    In the contract's order: outside the admin's region or missing (404), not an admin
    (403), an admin disabling themselves (422). Raises :class:`ApiError`.
    """
    account = runtime.users.account(username)
    if account is None or not authz.in_jurisdiction(admin, account.user.region_code):
        raise not_found("no such user")
    if admin.role is not Role.ADMIN:
        raise forbidden(f"a {admin.role.value} may not disable or enable accounts")
    if disabled and username == admin.username:
        raise ApiError(422, "cannot_disable_self", "An admin may not disable their own account", "")
    try:
        return runtime.users.set_disabled(username, disabled, actor=admin.username)
    except NoSuchUser:  # deleted meanwhile
        raise not_found("no such user") from None


def _set_disabled(request: Request, runtime: RuntimeDep, username: str, disabled: bool) -> Response:
    admin = authenticate(request)
    return json_response(_out(change_disabled(runtime, admin, username, disabled)))


@router.post(
    "/users/{username}/disable",
    response_model=AccountOut,
    summary="Disable an account: its tokens are refused from the next request on",
    responses=ACCOUNT_RESPONSES,
    openapi_extra={"x-roles": {"admin": "region"}},
)
def disable(request: Request, runtime: RuntimeDep, username: Annotated[str, USERNAME]) -> Response:
    return _set_disabled(request, runtime, username, True)


@router.post(
    "/users/{username}/enable",
    response_model=AccountOut,
    summary="Enable a disabled account (tokens issued before it was disabled stay refused)",
    responses=ACCOUNT_RESPONSES,
    openapi_extra={"x-roles": {"admin": "region"}},
)
def enable(request: Request, runtime: RuntimeDep, username: Annotated[str, USERNAME]) -> Response:
    return _set_disabled(request, runtime, username, False)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


def _caller(request: Request) -> User:
    return authenticate(request)


@router.post(
    "/me/password",
    response_model=Token,
    summary="Change my password; my other tokens are refused from then on, a new one returned",
    responses={
        401: _problem("no or bad credentials (`unauthorized`)"),
        422: _problem(
            "the new password breaks the rule (`weak_password`) or the current one is wrong "
            "(`wrong_password`)"
        ),
        429: _problem("too many wrong passwords (`too_many_attempts`), see Retry-After"),
    },
    openapi_extra={"x-roles": {r.value: "yes" for r in Role if r is not Role.SYSTEM}},
)
def change_password(
    request: Request,
    body: PasswordChange,
    caller: Annotated[User, Depends(_caller)],
    runtime: RuntimeDep,
) -> Response:
    outcome = log_in(runtime, request, caller.username, body.current_password)
    _refuse_if_throttled(outcome.retry_after, "Too many failed attempts")
    if outcome.user is None:
        raise ApiError(
            422, "wrong_password", "The current password is wrong", field="current_password"
        )
    try:
        changed = runtime.users.set_password(
            caller.username, body.new_password, actor=caller.username
        )
    except WeakPasswordError as exc:
        raise ApiError(
            422, "weak_password", "The new password is too weak", str(exc), field="new_password"
        ) from None
    token, lifetime = issue_token(changed, runtime.settings)
    return json_response(Token(access_token=token, expires_in=lifetime))
