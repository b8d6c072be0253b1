"""Finding: ``/docs`` in production was public, and it loaded its assets from a CDN (blank
offline).

Swagger UI and ReDoc come from the ``fastapi-offline`` package's assets, served by the app;
in production they are off unless ``MEDIATION_API_DOCS=true``; ``/openapi.json`` is always
served (the contract requires it).
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.security.hygiene_support import ENCRYPTION_KEY, world_on
from tests.support.factories import SteppingClock

PRODUCTION = {
    "environment": "production",
    "secret_key": "production-secret-key-that-is-long-enough-0123456789",
    "encryption_key": ENCRYPTION_KEY,
}


def _served_locally(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
    urls += re.findall(r"""url:\s*["']([^"']+)["']""", r.text)
    assert urls, r.text
    assert not [u for u in urls if "//" in u], urls  # nothing from another host
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, urls
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
    assert "cdn.jsdelivr.net" not in r.text and "fonts.googleapis.com" not in r.text


def test_docs_from_local_assets_in_development(database_url: str, clock: SteppingClock) -> None:
    with world_on(database_url, clock) as world:
        _served_locally(world.client, "/docs")
        _served_locally(world.client, "/redoc")
        js = world.client.get("/docs/assets/swagger-ui-bundle.js")
        assert len(js.content) > 100_000  # the real bundle, not a stub


def test_docs_off_in_production_openapi_kept(database_url: str, clock: SteppingClock) -> None:
    with world_on(database_url, clock, **PRODUCTION) as world:
        for path in ("/docs", "/redoc", "/docs/assets/swagger-ui-bundle.js"):
            assert world.client.get(path).status_code == 404, path
        r = world.client.get("/openapi.json")
        assert r.status_code == 200 and "/api/v1/cases" in r.json()["paths"]


def test_docs_on_in_production_when_configured(database_url: str, clock: SteppingClock) -> None:
    with world_on(database_url, clock, api_docs=True, **PRODUCTION) as world:
        _served_locally(world.client, "/docs")
        _served_locally(world.client, "/redoc")
