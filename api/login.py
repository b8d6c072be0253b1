"""One login flow for the API's token endpoint and the web page's form.

Throttle first (:class:`api.security.LoginLimiter`), then the password, then the record:
every attempt — success, failure, throttled — is written to the ``login_attempts`` table and
to the ``api.auth`` log with the username and the client (:func:`api.security.client_address`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import Request

from api.deps import Runtime
from api.users import User
from mediation.text import storable

log = logging.getLogger("api.auth")


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    retry_after: int | None = None  # set when the attempt was throttled


def log_in(runtime: Runtime, request: Request, username: str, password: str) -> LoginOutcome:
    username = username.strip()[:64]
    possible = username.isprintable()  # every account's name is (UserStore.add)
    username = storable(username)  # a NUL cannot even be looked up on PostgreSQL
    client = runtime.limiter.client_of(request)
    wait = runtime.limiter.retry_after(
        username, client, known=lambda: runtime.users.known_client(username, client)
    )
    if wait is not None:
        _record(runtime, username, client, "throttled", "too_many_attempts")
        return LoginOutcome(None, wait)
    if username and password and possible:
        user, reason = runtime.users.check_login(username, password)
    elif username and password:
        user, reason = None, "unknown_user"
    else:
        user, reason = None, "missing"
    if user is None:
        runtime.limiter.failed(username, client)
        _record(runtime, username, client, "failure", reason)
        return LoginOutcome(None)
    runtime.limiter.succeeded(username, client)
    _record(runtime, username, client, "success", "")
    return LoginOutcome(user)


def _record(runtime: Runtime, username: str, client: str, outcome: str, reason: str) -> None:
    fields = {"username": username, "client": client, "outcome": outcome, "reason": reason}
    level = logging.INFO if outcome == "success" else logging.WARNING
    log.log(level, "login %s", outcome, extra={"fields": fields})
    runtime.users.record_login(username, client, outcome, reason)
