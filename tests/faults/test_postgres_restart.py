"""PostgreSQL stopped (``-m immediate``) and started again while the API is under load.

Meanwhile the API answers 503 ``service_unavailable`` with ``Retry-After`` — never a 500
— on commands, reads and ``/readyz``; once PostgreSQL is back the same server process
answers again by itself (no restart); nothing acknowledged is lost, nothing
unacknowledged is stored, ``mediation verify`` passes and the read models equal a clean
rebuild. PostgreSQL only; the cluster is always started again, even when the test fails.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import _postgres_schema
from tests.faults import pg
from tests.faults.conftest import scale
from tests.faults.server import ClientResult, Server, client_loop, setup_world
from tests.faults.test_kill_api import check_outcome

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

OUTAGE_SECONDS = 3.0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    pg.start()  # a previous run that died half-way must not leave it down
    yield from _postgres_schema()


class Probe:
    """Reads in a loop (one thread per path); every answer must be 200 or a proper 503.

    A read that was already waiting inside the store when the outage began completes
    when the database is back; reads that arrive during the outage get the 503 at once.
    """

    def __init__(self, base: str, token: str, case_id: str) -> None:
        self.base, self.token, self.case_id = base, token, case_id
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self, path: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=15) as http:
            for _ in range(100_000):
                if self.stop.is_set():
                    return
                try:
                    r = http.get(path)
                except httpx.HTTPError as error:  # the server process never goes away here
                    self.errors.append(f"{path}: {error!r}")
                    time.sleep(0.05)
                    continue
                self.statuses[r.status_code] += 1
                if r.status_code == 503:
                    ok = (
                        r.headers.get("retry-after")
                        and r.headers.get("content-type", "").startswith("application/problem+json")
                        and r.json().get("code") == "service_unavailable"
                    )
                    if not ok:
                        self.errors.append(f"{path}: bad 503 {r.headers} {r.text[:200]}")
                elif r.status_code != 200:
                    self.errors.append(f"{path}: {r.status_code} {r.text[:300]}")
                time.sleep(0.02)


def test_postgres_stopped_and_started_under_load(postgres_url: str, tmp_path: Path) -> None:
    outages, clients = scale(1, 3), scale(2, 4)
    world = setup_world(postgres_url, cases=3)
    server = Server(postgres_url, tmp_path)
    stop = threading.Event()
    probe = Probe(server.base, world.token, str(world.case_ids[0]))
    probers = [
        threading.Thread(target=probe.run, args=(path,))
        for path in ("/readyz", f"/api/v1/cases/{world.case_ids[0]}")
    ]
    try:
        server.start()
        for prober in probers:
            prober.start()
        with ThreadPoolExecutor(clients) as pool:
            futures = [
                # a client that gives up on a slow answer after 1 s and sends the same
                # request again (same key, same If-Match): new requests meet the outage
                pool.submit(client_loop, server.base, world, f"c{n}", 300 + n, stop, timeout=1.0)
                for n in range(clients)
            ]
            try:
                for _ in range(outages):
                    time.sleep(1.0)  # under load
                    seen = probe.statuses[503]
                    with pg.stopped():
                        # a short outage: other test runs share this server
                        down = time.monotonic()
                        while time.monotonic() - down < OUTAGE_SECONDS or (
                            probe.statuses[503] <= seen and time.monotonic() - down < 10
                        ):
                            time.sleep(0.05)
                    # back by itself: the same server process answers 200 again
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        try:
                            if httpx.get(server.base + "/readyz", timeout=5).status_code == 200:
                                break
                        except httpx.HTTPError:
                            pass
                        time.sleep(0.1)
                    else:
                        pytest.fail("the API did not recover after PostgreSQL came back")
                    time.sleep(1.0)  # and takes commands again
            finally:
                stop.set()
            results: list[ClientResult] = [f.result(timeout=180) for f in futures]
        probe.stop.set()
        for prober in probers:
            prober.join(timeout=30)
        assert server.process is not None and server.process.poll() is None
        # the in-process read models caught up by themselves as well
        deadline = time.monotonic() + 30
        while httpx.get(server.base + "/readyz", timeout=5).json()["projection_lag"] > 0:
            assert time.monotonic() < deadline, "read models stayed behind"
            time.sleep(0.1)
        server.stop()
        print(
            f"probe {dict(probe.statuses)}; acknowledged "
            f"{sum(len(r.acknowledged) for r in results)}, 503 to commands "
            f"{sum(r.unavailable for r in results)}, resent after a dead connection "
            f"{sum(r.retries for r in results)}"
        )
        assert probe.errors == []
        assert probe.statuses[503] > 0, "the outage was never seen"
        assert sum(r.unavailable for r in results) > 0, "no command met the outage"
        assert set(probe.statuses) <= {200, 503}
        check_outcome(postgres_url, server, results, world.case_ids)
    finally:
        stop.set()
        probe.stop.set()
        pg.start()
        server.kill()
