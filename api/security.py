"""Tokens (JWT, HS256, signed with ``settings.secret_key``) and the login rate limiter.

The limiter is in memory, per process: after ``max_failures`` failed logins within
``window`` seconds for one username, or ``5 × max_failures`` from one client address,
further attempts are refused with 429 and ``Retry-After`` until the window has passed.
A successful login clears the username's failures. Several server processes each keep
their own counts (documented in docs/api.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from api.users import User
from mediation.settings import DEFAULT_SECRET, Settings
from mediation.values import Role

ALGORITHM = "HS256"
ISSUER = "mediation"


class InsecureSettings(RuntimeError):
    pass


def check_production_secret(settings: Settings) -> None:
    """Refuse to run in production with a default, missing or short secret."""
    if settings.environment != "production":
        return
    secret = settings.secret_key or ""
    if not secret or secret == DEFAULT_SECRET or len(secret) < 32:
        raise InsecureSettings(
            "MEDIATION_SECRET_KEY must be set to a random value of at least 32 characters "
            "when MEDIATION_ENVIRONMENT=production"
        )


def issue_token(user: User, settings: Settings, now: datetime | None = None) -> tuple[str, int]:
    now = now or datetime.now(UTC)
    lifetime = max(settings.token_minutes, 1) * 60
    claims = {
        "iss": ISSUER,
        "sub": user.username,
        "role": user.role.value,
        "region": user.region_code,
        "studio": str(user.studio_id) if user.studio_id else None,
        "mediator": str(user.mediator_id) if user.mediator_id else None,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), lifetime


def read_token(token: str, settings: Settings) -> User | None:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
        return User(
            username=str(claims["sub"]),
            role=Role(claims["role"]),
            region_code=str(claims["region"]),
            studio_id=UUID(claims["studio"]) if claims.get("studio") else None,
            mediator_id=UUID(claims["mediator"]) if claims.get("mediator") else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


class LoginLimiter:
    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.max_address_failures = max_failures * 5
        self.window = window
        self.clock = clock
        self._users: dict[str, deque[float]] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, book: dict[str, deque[float]], key: str) -> deque[float]:
        now = self.clock()
        q = book.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            book.pop(key, None)
            q = book.setdefault(key, deque())
        return q

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait when the username or the address is locked out, else None."""
        with self._lock:
            waits = []
            for book, key, limit in (
                (self._users, username, self.max_failures),
                (self._addresses, address, self.max_address_failures),
            ):
                q = self._recent(book, key)
                if len(q) >= limit:
                    waits.append(int(self.window - (self.clock() - q[0])) + 1)
            return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(self._users, username).append(now)
            self._recent(self._addresses, address).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._users.pop(username, None)


class TokenReader:
    """Verifies tokens, remembering recently verified ones until they expire.

    A token is immutable and its signature was checked the first time; what is cached is
    the decoded user and the expiry, which is checked again on every use.
    """

    def __init__(self, settings: Settings, maxsize: int = 4096) -> None:
        self.settings = settings
        self.maxsize = maxsize
        self._seen: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def read(self, token: str) -> User | None:
        now = time.time()
        hit = self._seen.get(token)
        if hit is not None:
            if hit[1] > now:
                return hit[0]
            with self._lock:
                self._seen.pop(token, None)
            return None
        user = read_token(token, self.settings)
        if user is None:
            return None
        try:
            exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):  # pragma: no cover
            return user
        with self._lock:
            if len(self._seen) >= self.maxsize:
                self._seen.clear()
            self._seen[token] = (user, exp)
        return user
