"""A served app on each backend, with real accounts, and clients at chosen addresses.

Each test here stands for one finding of issue 16 ("Trust"); the accounts are created with
the store's own ``add`` (cheap Argon2 settings) and tokens come from the login endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.users import User, UserStore
from mediation.settings import Settings
from projections.system import System
from tests.support.accounts import FAST_HASHER, PASSWORD, fast_store
from tests.support.factories import SteppingClock

SECRET = "security-test-secret-key-long-enough-0123456789"
ENCRYPTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 bytes
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
USER_CLIENT = "192.0.2.10"  # the user's own machine
ATTACKER = "198.51.100.66"


@dataclass
class Served:
    app: FastAPI
    system: System
    settings: Settings
    database_url: str
    store: UserStore  # cheap hashing, for creating accounts
    _clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def users(self) -> UserStore:
        """The app's own store."""
        store: UserStore = self.app.state.runtime.users
        return store

    def client(self, address: str = USER_CLIENT) -> TestClient:
        if address not in self._clients:
            self._clients[address] = TestClient(self.app, client=(address, 50000))
        return self._clients[address]

    def add(self, username: str, role: str = "clerk", region: str = "420100", **kw: Any) -> User:
        return self.store.add(username, PASSWORD, role=role, region_code=region, **kw)

    def add_with_password(self, username: str, password: str) -> User:
        return self.store.add(username, password, role="clerk", region_code="420100")

    def login(self, username: str, password: str = PASSWORD, address: str = USER_CLIENT) -> Any:
        return self.client(address).post(TOKEN, data={"username": username, "password": password})

    def token(self, username: str, password: str = PASSWORD, address: str = USER_CLIENT) -> str:
        r = self.login(username, password, address)
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def me(self, token: str, address: str = USER_CLIENT) -> Any:
        return self.client(address).get(ME, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def served(database_url: str, clock: SteppingClock) -> Iterator[Served]:
    settings = Settings(database_url=database_url, secret_key=SECRET, token_minutes=60)
    system = System(database_url, settings=settings, clock=clock)
    app = create_app(system, settings)
    app.state.runtime.users.hasher = FAST_HASHER  # unknown users are checked against it
    store = fast_store(database_url)
    try:
        with TestClient(app):  # runs the lifespan
            yield Served(app, system, settings, database_url, store)
    finally:
        store.close()
        system.close()
