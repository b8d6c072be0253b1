"""Keys, tokens, the login throttle and the client's address.

**Keys fail closed.** There is no development key in the code: without
``MEDIATION_SECRET_KEY`` a development server signs with a random key made at start (and says
so; its tokens die with the process). ``MEDIATION_ENVIRONMENT=production`` refuses to start
without a secret key of at least 32 characters and an encryption key
(:func:`check_production_settings`).

**Tokens** (JWT, HS256) carry the account's ``credential_version``. A token is accepted only
while its account exists, is enabled and still has that version and the same role and
jurisdiction (:class:`TokenReader`; one primary-key read per request), and only within the
server's own lifetime (``MEDIATION_TOKEN_MINUTES``) from its ``iat`` whatever its ``exp``
says.

**Login throttle** (:class:`LoginLimiter`, in memory, per process): failures are counted per
username *and* client. The first :attr:`~LoginLimiter.free_failures` cost nothing; each one
after doubles the wait before that pair may try again, up to :attr:`~LoginLimiter.max_delay`.
Failures from other clients never delay a username's own client, so nobody can lock a user
out by guessing. Each client also has a budget of failures per window over all usernames
(:attr:`~LoginLimiter.client_limit`), and each username a budget over all clients
(:attr:`~LoginLimiter.username_limit`, against guessing spread over many addresses) that does
not apply to a client the user has logged in from before.

**The client** is the connection's peer address; ``X-Forwarded-For`` is believed only when
the peer is one of ``MEDIATION_TRUSTED_PROXIES`` (addresses or networks), and then the
rightmost address that is not itself a trusted proxy is the client.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import jwt
from starlette.requests import Request

from api.users import Account, User
from mediation.settings import Settings
from mediation.values import Role

if TYPE_CHECKING:
    from api.users import UserStore

ALGORITHM = "HS256"
ISSUER = "mediation"
MIN_SECRET_LENGTH = 32
CLOCK_SKEW = 60  # seconds a token's iat may lie in the future (another server's clock)

log = logging.getLogger("api.security")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InsecureSettings(RuntimeError):
    pass


# ---------------------------------------------------------------------- keys


def _encryption_key_problem(key: str) -> str | None:
    if not key:
        return "MEDIATION_ENCRYPTION_KEY must be set (base64 of a 16, 24 or 32 byte AES key)"
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return "MEDIATION_ENCRYPTION_KEY is not base64"
    if len(raw) not in (16, 24, 32):
        return "MEDIATION_ENCRYPTION_KEY must decode to 16, 24 or 32 bytes"
    return None


def check_production_settings(settings: Settings) -> None:
    """In production: a real secret key and an encryption key, or no start at all."""
    if settings.environment != "production":
        return
    problems = []
    if len(settings.secret_key or "") < MIN_SECRET_LENGTH:
        problems.append(
            f"MEDIATION_SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters"
        )
    encryption = _encryption_key_problem(settings.encryption_key)
    if encryption:
        problems.append(encryption)
    try:
        trusted_networks(settings.trusted_proxies)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise InsecureSettings("; ".join(problems) + " when MEDIATION_ENVIRONMENT=production")


check_production_secret = check_production_settings  # the name the first release used


def with_keys(settings: Settings) -> Settings:
    """The settings to serve with: production checked; a random key when none is set."""
    check_production_settings(settings)
    trusted_networks(settings.trusted_proxies)  # a typo fails the start, not every login
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_LENGTH:
            log.warning(
                "MEDIATION_SECRET_KEY is shorter than %s characters; production refuses it",
                MIN_SECRET_LENGTH,
            )
        return settings
    log.warning(
        "no MEDIATION_SECRET_KEY: tokens are signed with a random key made at this start "
        "(they stop working when the process ends); set one for anything but development"
    )
    return settings.model_copy(update={"secret_key": secrets.token_urlsafe(48)})


def uses_random_key(before: Settings, after: Settings) -> bool:
    return not before.secret_key and bool(after.secret_key)


# ---------------------------------------------------------------------- tokens


def issue_token(user: User, settings: Settings, now: datetime | None = None) -> tuple[str, int]:
    if not settings.secret_key:
        raise InsecureSettings("no secret key to sign tokens with (see api.security.with_keys)")
    now = now or datetime.now(UTC)
    lifetime = max(settings.token_minutes, 1) * 60
    claims = {
        "iss": ISSUER,
        "sub": user.username,
        "role": user.role.value,
        "region": user.region_code,
        "studio": str(user.studio_id) if user.studio_id else None,
        "mediator": str(user.mediator_id) if user.mediator_id else None,
        "ver": user.credential_version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), lifetime


def read_token(token: str, settings: Settings, now: float | None = None) -> User | None:
    """The user a token names, if its signature, issuer and times are right.

    The lifetime is the server's: a token older than ``token_minutes`` (by its ``iat``) or
    claiming a longer life is refused whatever its ``exp`` says. The account itself is not
    consulted here: :class:`TokenReader` does that.
    """
    if not settings.secret_key:
        return None
    now = time.time() if now is None else now
    lifetime = max(settings.token_minutes, 1) * 60
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss", "ver"]},
        )
        issued, expires = int(claims["iat"]), int(claims["exp"])
        if issued > now + CLOCK_SKEW or expires - issued > lifetime or now - issued > lifetime:
            return None
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            return None
        return User(
            username=str(claims["sub"]),
            role=Role(claims["role"]),
            region_code=str(claims["region"]),
            studio_id=UUID(claims["studio"]) if claims.get("studio") else None,
            mediator_id=UUID(claims["mediator"]) if claims.get("mediator") else None,
            credential_version=version,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


class TokenReader:
    """Verifies tokens against the key and the account as stored now.

    The signature check is remembered per token until the token's (server-capped) end; the
    account is read on every use, so a disabled account, a changed password or role, a
    deleted or re-created user is refused from the next request on.
    """

    def __init__(self, settings: Settings, users: UserStore, maxsize: int = 4096) -> None:
        self.settings = settings
        self.users = users
        self.maxsize = maxsize
        self._seen: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def _claims(self, token: str) -> User | None:
        now = time.time()
        hit = self._seen.get(token)
        if hit is not None:
            if hit[1] > now:
                return hit[0]
            with self._lock:
                self._seen.pop(token, None)
            return None
        user = read_token(token, self.settings, now)
        if user is None:
            return None
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            ends = min(
                float(claims["exp"]),
                float(claims["iat"]) + max(self.settings.token_minutes, 1) * 60,
            )
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):  # pragma: no cover
            return None
        with self._lock:
            if len(self._seen) >= self.maxsize:
                self._seen.clear()
            self._seen[token] = (user, ends)
        return user

    def read(self, token: str) -> User | None:
        account = self.read_account(token)
        return account.user if account is not None else None

    def read_account(self, token: str) -> Account | None:
        """The token's account as stored now, if the token is valid and the account still
        enabled and unchanged (the page header shows its name: no second read)."""
        claimed = self._claims(token)
        if claimed is None:
            return None
        account = self.users.account(claimed.username)
        if account is None or account.disabled or account.user != claimed:
            return None
        return account


# ---------------------------------------------------------------------- clients


def trusted_networks(value: str) -> tuple[Network, ...]:
    """``MEDIATION_TRUSTED_PROXIES``: comma-separated addresses or networks."""
    networks = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"MEDIATION_TRUSTED_PROXIES: {part!r} is not an address or network"
            ) from None
    return tuple(networks)


def _within(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    """The client: the peer, or behind trusted proxies the address they were given."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a garbled hop: believe nothing further left
        client = hop
        if not _within(hop, trusted):
            break
    return client[:64]


# ---------------------------------------------------------------------- throttle


@dataclass
class _Pair:
    failures: int
    last: float


class LoginLimiter:
    """Growing delays per (username, client); budgets per client and per username."""

    def __init__(
        self,
        *,
        free_failures: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        window: float = 900.0,
        client_limit: int = 30,
        username_limit: int = 50,
        trusted_proxies: str = "",
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.window = window
        self.client_limit = client_limit
        self.username_limit = username_limit
        self.trusted = trusted_networks(trusted_proxies)
        self.clock = clock
        self.max_entries = max_entries
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._clients: dict[str, deque[float]] = {}
        self._usernames: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def client_of(self, request: Request) -> str:
        return client_address(request, self.trusted)

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures of one (username, client)."""
        if failures < self.free_failures:
            return 0.0
        return float(min(self.base_delay * 2 ** (failures - self.free_failures), self.max_delay))

    def _recent(self, book: dict[str, deque[float]], key: str, now: float) -> deque[float]:
        q = book.get(key)
        if q is None:
            return deque()
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            del book[key]
        return q

    def retry_after(
        self, username: str, client: str, known: Callable[[], bool] | None = None
    ) -> int | None:
        """Seconds to wait before this username may be tried from this client, else None.

        ``known`` answers whether the user has logged in from this client before; it is
        asked only when a budget shared with other clients is exhausted.
        """
        with self._lock:
            now = self.clock()
            waits: list[float] = []
            pair = self._pairs.get((username, client))
            if pair is not None:
                if now - pair.last > self.window:
                    del self._pairs[(username, client)]
                else:
                    left = pair.last + self.delay(pair.failures) - now
                    if left > 0:
                        waits.append(left)
            shared: list[float] = []
            for book, key, limit in (
                (self._clients, client, self.client_limit),
                (self._usernames, username, self.username_limit),
            ):
                q = self._recent(book, key, now)
                if len(q) >= limit:
                    shared.append(self.window - (now - q[-limit]))
        if shared and not (known is not None and known()):
            waits.extend(shared)
        return int(max(waits)) + 1 if waits else None

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            if len(self._pairs) >= self.max_entries:
                self._forget(now)
            pair = self._pairs.get((username, client))
            if pair is None or now - pair.last > self.window:
                self._pairs[(username, client)] = _Pair(1, now)
            else:
                pair.failures += 1
                pair.last = now
            for book, key in ((self._clients, client), (self._usernames, username)):
                self._recent(book, key, now)
                book.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._pairs.pop((username, client), None)

    def _forget(self, now: float) -> None:
        """Drop what the window has expired; if still full, everything (memory bound)."""
        for pair in [k for k, p in self._pairs.items() if now - p.last > self.window]:
            del self._pairs[pair]
        for book in (self._clients, self._usernames):
            for key in list(book):
                self._recent(book, key, now)
        if len(self._pairs) >= self.max_entries:
            self._pairs.clear()
