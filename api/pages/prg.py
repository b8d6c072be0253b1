"""Post/redirect/get for every page form: the outcome travels to the page it redirects to.

A form route ends with :func:`done` (a success message) or :func:`refused` (the refusal,
which form to open, what was typed, the error beside each field); both answer ``303 See
Other`` to a GET address, so the address bar never shows the POST URL and a refresh never
re-submits. The outcome rides in a short-lived cookie, encrypted and authenticated
(Fernet, key derived from the secret key) because typed values may be personal data; API
processes stay stateless. :func:`api.pages.common.render` takes the outcome for the page
it was meant for (same path, same user) and deletes the cookie.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request
from starlette.responses import RedirectResponse, Response

from api.deps import runtime_of

COOKIE = "mediation_outcome"
PARTS = 4  # at most this many cookies of ...
PART_SIZE = 3800  # ... this many characters (browsers keep 4096 bytes per cookie)
LIFETIME = 120  # seconds: the redirect is followed at once


@dataclass(frozen=True)
class Outcome:
    """What the page shows after a form was submitted."""

    path: str  # the page it is for
    username: str
    message: str = ""  # success
    error: dict[str, Any] | None = None  # refusal (title, detail, source, code, field)
    open_form: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field -> message, beside it


def _fernet(request: Request) -> Fernet:
    secret = (runtime_of(request).settings.secret_key or "").encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mediation page outcome"
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(request: Request, outcome: Outcome) -> list[str]:
    """The outcome as cookie values; the longest typed values are dropped if it is too big."""
    values = dict(outcome.values)
    while True:
        data = {**outcome.__dict__, "values": values}
        raw = zlib.compress(json.dumps(data, ensure_ascii=False).encode())
        token = _fernet(request).encrypt(raw).decode()
        if len(token) <= PARTS * PART_SIZE or not values:
            return [token[i : i + PART_SIZE] for i in range(0, len(token), PART_SIZE)]
        del values[max(values, key=lambda k: len(values[k]))]


def _redirect(request: Request, url: str, outcome: Outcome) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    secure = runtime_of(request).settings.environment == "production"
    parts = _seal(request, outcome)
    for i in range(PARTS):
        name = f"{COOKIE}{i}"
        if i < len(parts):
            response.set_cookie(
                name,
                parts[i],
                max_age=LIFETIME,
                httponly=True,
                samesite="strict",
                secure=secure,
                path="/",
            )
        elif name in request.cookies:
            response.delete_cookie(name, path="/")
    return response


def _path_of(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def done(request: Request, url: str, message: str) -> RedirectResponse:
    """A command succeeded: go to ``url`` and say so there."""
    user = getattr(request.state, "user", None)
    username = user.username if user is not None else ""
    return _redirect(request, url, Outcome(_path_of(url), username, message=message))


def refused(
    request: Request,
    url: str,
    error: dict[str, Any],
    values: dict[str, str],
    *,
    open_form: str = "",
    errors: dict[str, str] | None = None,
) -> RedirectResponse:
    """A command was refused: go back to ``url`` with the refusal, the form open and filled."""
    user = getattr(request.state, "user", None)
    username = user.username if user is not None else ""
    outcome = Outcome(
        _path_of(url),
        username,
        error=error,
        open_form=open_form,
        values=values,
        errors=dict(errors or {}),
    )
    return _redirect(request, url, outcome)


def take(request: Request, username: str) -> tuple[Outcome | None, bool]:
    """The outcome waiting for this page and user, if any, and whether the cookies are spent
    (shown now, or unreadable, expired or another user's); one for another page waits."""
    parts = [request.cookies.get(f"{COOKIE}{i}") for i in range(PARTS)]
    token = "".join(p for p in parts if p)
    if not token:
        return None, False
    try:
        raw = _fernet(request).decrypt(token.encode(), ttl=LIFETIME)
        outcome = Outcome(**json.loads(zlib.decompress(raw)))
    except (InvalidToken, ValueError, TypeError, zlib.error):
        return None, True
    if outcome.username != username:
        return None, True
    if outcome.path != request.url.path:
        return None, False
    return outcome, True


def clear(request: Request, response: Response) -> None:
    """Delete the outcome's cookies once its page has been shown."""
    for i in range(PARTS):
        if f"{COOKIE}{i}" in request.cookies:
            response.delete_cookie(f"{COOKIE}{i}", path="/")
