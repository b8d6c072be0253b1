"""Log in (OAuth2 password form → bearer token) and "who am I"."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AccessDep, RuntimeDep, action
from api.errors import ApiError
from api.routes.common import json_response
from api.schemas import Me, Token
from api.security import issue_token

router = APIRouter(prefix="/api/v1", tags=["auth"])
log = logging.getLogger("api.auth")


@router.post(
    "/auth/token",
    response_model=Token,
    summary="Log in with the OAuth2 password form; failed attempts are rate-limited",
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed attempts; see Retry-After"},
    },
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    runtime: RuntimeDep,
) -> Response:
    address = request.client.host if request.client else "unknown"
    username = form.username.strip()[:64]
    wait = runtime.limiter.retry_after(username, address)
    if wait is not None:
        log.warning("login refused: too many failures")
        raise ApiError(
            429,
            "too_many_attempts",
            "Too many failed login attempts",
            f"try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    user = runtime.users.authenticate(username, form.password)
    if user is None:
        runtime.limiter.failed(username, address)
        raise ApiError(
            401,
            "invalid_credentials",
            "Wrong username or password",
            "wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    runtime.limiter.succeeded(username)
    token, lifetime = issue_token(user, runtime.settings)
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
