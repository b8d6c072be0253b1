"""Accounts for tests: real rows in the store (tokens of missing users are refused), hashed
with a cheap Argon2 setting so that fixtures creating many users stay fast."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher

from api.security import issue_token
from api.users import User, UserStore
from mediation.settings import Settings

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
# follows the password rule for every username the tests use (no "m", "clerk", …)
PASSWORD = "Yz-4921-Qv-8830-kWt"


def fast_store(database_url: str) -> UserStore:
    return UserStore(database_url, hasher=FAST_HASHER)


def create_accounts(database_url: str, users: Iterable[User]) -> dict[str, User]:
    """Store each user (replacing a namesake); the stored users, with their versions."""
    store = fast_store(database_url)
    try:
        return {
            u.username: store.add(
                u.username,
                PASSWORD,
                role=u.role.value,
                region_code=u.region_code,
                studio_id=u.studio_id,
                mediator_id=u.mediator_id,
                replace=True,
                actor="test",
            )
            for u in users
        }
    finally:
        store.close()


def account_tokens(database_url: str, users: Iterable[User], settings: Settings) -> dict[str, str]:
    """Create the accounts and a token for each (keyed by username)."""
    return {
        name: issue_token(user, settings)[0]
        for name, user in create_accounts(database_url, users).items()
    }


def account_token(database_url: str, user: User, settings: Settings) -> str:
    return account_tokens(database_url, [user], settings)[user.username]
