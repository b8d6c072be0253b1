"""The figures of ``python -m bench``, each measured beside its baseline in the same run."""

from __future__ import annotations

import csv
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench import api_bench, naive
from bench.harness import Store, alternate, alternate_many, fresh_store, rate, seconds
from importer.rows import COLUMNS
from importer.run import import_file, import_workers
from mediation.application import CommandContext, MediationApplication
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from projections.caseload import caseload
from projections.rebuild import rebuild_workers
from projections.system import System
from tests.fixtures.make_historic_cases import generate, write_csv

IMPORTER = Actor("bench-import", Role.SYSTEM)
MEDIATOR = CommandContext(Actor("mediator", Role.MEDIATOR))
STATS_PERIOD = (date(2025, 1, 1), date(2025, 6, 30))
QUERY_CALLS = 10  # consecutive calls of the query per stats_vs_naive round
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class Sizes:
    rounds: int
    commands: int  # per round
    command_cases: int
    import_rows: int
    history_rows: int  # rows imported for rebuild and stats
    growth_events: tuple[int, ...]
    stats_runs: int
    api_requests: int


QUICK = Sizes(
    rounds=5,
    commands=100,
    command_cases=20,
    import_rows=600,
    history_rows=1500,
    growth_events=(10_000, 30_000),
    stats_runs=3,
    api_requests=80,
)
FULL = Sizes(
    rounds=7,
    commands=1000,
    command_cases=100,
    import_rows=5000,
    history_rows=20_000,
    growth_events=(100_000, 1_000_000, 10_000_000),
    stats_runs=5,
    api_requests=400,
)


# ---------------------------------------------------------------------- command_vs_raw


def command_vs_raw(store: Store, sizes: Sizes) -> dict[str, Any]:
    from tests.support.factories import in_mediation, studio_with_mediator

    system = System(store.url)
    app = system.app
    raw = store.raw()
    p = store.param
    try:
        studio_id, mediator_id = studio_with_mediator(app)
        case_ids = [
            in_mediation(app, studio_id, mediator_id).id for _ in range(sizes.command_cases)
        ]
        # the raw loop's table: a copy of the same rows, and it grows the same way
        raw.execute(
            "CREATE TABLE bench_raw (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state "
            + ("BLOB" if store.backend == "sqlite" else "BYTEA")
            + ", PRIMARY KEY (originator_id, originator_version))"
        )
        store.begin(raw)
        for case_id in case_ids:
            for e in app.recorder.select_events(case_id):
                raw.execute(
                    f"INSERT INTO bench_raw VALUES ({p}, {p}, {p}, {p})",
                    (str(case_id), e.originator_version, e.topic, e.state),
                )
        store.commit(raw)
        summary = "调解会议：双方陈述意见，调解员释法析理" * 3
        app.record_session(MEDIATOR, case_ids[0], held_on=date(2026, 3, 20), summary=summary)
        template = app.recorder.select_events(case_ids[0], desc=True, limit=1)[0]
        counter = iter(range(10**9))

        def through_app() -> float:
            def work() -> None:
                for _ in range(sizes.commands):
                    case_id = case_ids[next(counter) % len(case_ids)]
                    app.record_session(
                        MEDIATOR, case_id, held_on=date(2026, 3, 20), summary=summary
                    )

            return rate(sizes.commands, work)

        raw_counter = iter(range(10**9))

        def raw_loop() -> float:
            def work() -> None:
                for _ in range(sizes.commands):
                    case_id = str(case_ids[next(raw_counter) % len(case_ids)])
                    # a writer's transaction: on SQLite it takes the write lock first (a
                    # deferred one cannot upgrade after a worker's commit: "locked")
                    raw.execute("BEGIN IMMEDIATE" if store.backend == "sqlite" else "BEGIN")
                    rows = raw.execute(
                        "SELECT originator_version, topic, state FROM bench_raw "
                        f"WHERE originator_id = {p} ORDER BY originator_version",
                        (case_id,),
                    ).fetchall()
                    raw.execute(
                        f"INSERT INTO bench_raw VALUES ({p}, {p}, {p}, {p})",
                        (case_id, rows[-1][0] + 1, template.topic, template.state),
                    )
                    store.commit(raw)

            return rate(sizes.commands, work)

        ours, theirs = alternate(sizes.rounds, through_app, raw_loop)
        # The deployed shape: the same command without in-process read models, while a
        # projection worker (``python -m projections.worker --follow``, what ``mediation
        # project --follow`` runs) keeps them current from another process on the same
        # machine; the raw loop measured alternately under the same worker.
        bare = MediationApplication(persistence_env(store.url))
        worker = _start_worker(store.url)
        try:

            def without_views() -> float:
                def work() -> None:
                    for _ in range(sizes.commands):
                        case_id = case_ids[next(counter) % len(case_ids)]
                        bare.record_session(
                            MEDIATOR, case_id, held_on=date(2026, 3, 20), summary=summary
                        )

                return rate(sizes.commands, work)

            bare_rate, raw_beside_worker = alternate(sizes.rounds, without_views, raw_loop)
            head = bare.max_position()
            drained_s = _wait_tracked(system, head)
        finally:
            _stop_worker(worker)
            bare.close()
        return {
            "ratio": ours / theirs,
            "app_commands_per_s": ours,
            "raw_tx_per_s": theirs,
            "app_without_views_per_s": bare_rate,
            "raw_tx_per_s_beside_worker": raw_beside_worker,
            "ratio_worker": bare_rate / raw_beside_worker,
            "worker_drained_s": drained_s,
            "projections_in_process": True,
            "note": "record_session: load, decide, save, in-process read models; "
            "ratio_worker: no in-process views, a projection worker process following",
        }
    finally:
        raw.close()
        system.close()


def _start_worker(url: str) -> subprocess.Popen[bytes]:
    """``python -m projections.worker --follow`` on the store, as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "projections.worker", "--url", url, "--follow", "--poll", "0.05"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGINT)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _wait_tracked(system: System, position: int, limit: float = 120.0) -> float | None:
    """Seconds after the last command until the worker tracked it (None: not in time)."""
    started = time.perf_counter()
    while system.tracked() < position:
        if time.perf_counter() - started > limit:
            return None
        time.sleep(0.01)
    return time.perf_counter() - started


# ---------------------------------------------------------------------- import_vs_copy


def _historic_csv(
    path: Path, rows: int, seed: int = 7, prefix: str = "B", studios: str = ""
) -> Path:
    """A generated export; ``studios`` tags its studio names (each chunk of a large history
    gets its own studios: the generator draws new mediators per call, and a studio's roster
    quota would refuse them in studios that earlier chunks filled)."""
    cases = generate(rows, seed, prefix=prefix)
    if studios:
        for row in cases:
            if row.get("studio"):
                row["studio"] = f"{row['studio']}（{studios}）"
    write_csv(cases, path)
    return path


def _copy_rows(store: Store, csv_path: Path) -> None:
    raw = store.raw()
    try:
        columns = ", ".join(f"{c} TEXT" for c in COLUMNS)
        raw.execute("DROP TABLE IF EXISTS bench_copy")
        raw.execute(f"CREATE TABLE bench_copy ({columns})")
        if store.backend == "postgres":
            with (
                raw.cursor() as cur,
                cur.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
                csv_path.open("rb") as f,
            ):
                while chunk := f.read(1 << 16):
                    copy.write(chunk)
        else:
            with csv_path.open(encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                next(reader)
                marks = ", ".join("?" for _ in COLUMNS)
                store.begin(raw)
                raw.executemany(f"INSERT INTO bench_copy VALUES ({marks})", reader)
                store.commit(raw)
    finally:
        raw.close()


def _copy_events(store: Store, rows: list[tuple[Any, ...]]) -> None:
    raw = store.raw()
    try:
        raw.execute("DROP TABLE IF EXISTS bench_copy_events")
        if store.backend == "postgres":
            raw.execute(
                "CREATE TABLE bench_copy_events (originator_id UUID, originator_version INT, "
                "topic TEXT, state BYTEA)"
            )
            with raw.cursor() as cur, cur.copy("COPY bench_copy_events FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.execute(
                "CREATE TABLE bench_copy_events (originator_id TEXT, originator_version INT, "
                "topic TEXT, state BLOB)"
            )
            store.begin(raw)
            raw.executemany("INSERT INTO bench_copy_events VALUES (?, ?, ?, ?)", rows)
            store.commit(raw)
    finally:
        raw.close()


def import_vs_copy(backend: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    csv_path = _historic_csv(workdir / "import_bench.csv", sizes.import_rows)
    events_per_round: list[int] = []
    event_rows: list[tuple[Any, ...]] = []

    def through_importer() -> float:
        with fresh_store(backend, workdir) as store:
            app = MediationApplication(persistence_env(store.url))
            try:
                started = time.perf_counter()
                summary = import_file(app, csv_path, actor=IMPORTER, progress=False)
                elapsed = time.perf_counter() - started
                assert summary.imported == sizes.import_rows, summary.lines()
                events_per_round.append(summary.events)
                if not event_rows:
                    raw = store.raw()
                    event_rows.extend(
                        tuple(r)
                        for r in raw.execute(
                            "SELECT originator_id, originator_version, topic, state "
                            f"FROM {store.events_table}"
                        )
                    )
                    raw.close()
            finally:
                app.close()
        return sizes.import_rows / elapsed

    def raw_copy() -> float:
        with fresh_store(backend, workdir) as store:
            return rate(sizes.import_rows, lambda: _copy_rows(store, csv_path))

    def copy_events_rate() -> float:
        with fresh_store(backend, workdir) as store:
            return rate(len(event_rows), lambda: _copy_events(store, event_rows))

    # alternating, all three (round 0 runs the importer first: it captures the event rows)
    ours, theirs, copy_events = alternate_many(
        sizes.rounds, through_importer, raw_copy, copy_events_rate
    )
    events = statistics.median(events_per_round)
    import_events = ours * events / sizes.import_rows
    return {
        "ratio": ours / theirs,
        "import_rows_per_s": ours,
        "copy_rows_per_s": theirs,
        "import_events_per_s": import_events,
        "copy_event_rows_per_s": copy_events,
        "import_events_vs_copy_events": import_events / copy_events,
        "events_per_row": events / sizes.import_rows,
        "rows": sizes.import_rows,
        "workers": import_workers(),
    }


# ---------------------------------------------------------------------- history, rebuild, stats


def populate(store: Store, workdir: Path, rows: int, *, tag: str = "H") -> int:
    """Import ``rows`` generated historic cases (in chunks); returns the events written.

    ``tag`` prefixes the old case numbers: give each call on one store its own.
    """
    app = MediationApplication(persistence_env(store.url))
    events = 0
    try:
        chunk = 0
        left = rows
        while left > 0:
            n = min(left, CHUNK_ROWS)
            path = _historic_csv(
                workdir / f"chunk{chunk}.csv",
                n,
                seed=zlib.crc32(f"{tag}{chunk}".encode()),
                prefix=f"{tag}{chunk}-",
                studios=f"{tag}{chunk}",
            )
            summary = import_file(app, path, actor=IMPORTER, progress=False, batch_size=500)
            path.unlink()
            events += summary.events
            left -= n
            chunk += 1
    finally:
        app.close()
    return events


def _event_count(store: Store) -> int:
    raw = store.raw()
    try:
        return int(raw.execute(f"SELECT count(*) FROM {store.events_table}").fetchone()[0])
    finally:
        raw.close()


# Importing through the domain runs at ≈ 10–20k events/s here, so a 10^7-event history
# would take the better part of an hour per backend: above this many events the growth
# figure copies the imported cases' events under new case ids (same dates, regions,
# studios and mediators; the copies' hash chains are not valid, which a rebuild does not
# check). The rebuild does the same work per event either way.
IMPORT_UP_TO = int(os.environ.get("MEDIATION_BENCH_IMPORT_UP_TO", "1000000"))


def _max_position(store: Store) -> int:
    order = store.position_column
    raw = store.raw()
    try:
        return int(raw.execute(f"SELECT max({order}) FROM {store.events_table}").fetchone()[0])
    finally:
        raw.close()


def _copy_cases(store: Store, copy: int, base: int, limit: int) -> int:
    """Append copy number ``copy`` of the case events up to position ``base`` (at most
    ``limit`` of them, in log order) under new case ids: the id's first 8 hex digits
    become ``copy``."""
    raw = store.raw()
    try:
        order = store.position_column
        if store.backend == "sqlite":
            new_id = f"printf('%08x', {copy}) || substr(originator_id, 9)"
        else:
            new_id = f"(lpad(to_hex({copy}), 8, '0') || substr(originator_id::text, 9))::uuid"
        store.begin(raw)
        cur = raw.execute(
            f"INSERT INTO {store.events_table} (originator_id, originator_version, topic, state) "
            f"SELECT {new_id}, originator_version, topic, state FROM {store.events_table} "
            f"WHERE {order} <= {int(base)} AND topic LIKE 'mediation.case.%' "
            f"ORDER BY {order} LIMIT {int(limit)}"
        )
        store.commit(raw)
        return int(cur.rowcount)
    finally:
        raw.close()


def _scan(store: Store) -> int:
    """A plain sequential read of the events table, in log order, every column."""
    raw = store.raw()
    n = 0
    try:
        order = store.position_column
        if store.backend == "postgres":
            with raw.cursor(name="scan") as cur:
                raw.autocommit = False
                cur.itersize = 5000
                cur.execute(f"SELECT * FROM {store.events_table} ORDER BY {order}")
                for _ in cur:
                    n += 1
                raw.rollback()
        else:
            cur = raw.execute(f"SELECT * FROM {store.events_table} ORDER BY {order}")
            while rows := cur.fetchmany(5000):
                n += len(rows)
    finally:
        raw.close()
    return n


def _library_read(app: MediationApplication) -> int:
    """Every event read through the library in log order, as an event-sourced consumer reads
    them: the recorder's ``select_notifications`` (pages of 5,000), each notification turned
    into its domain event by the application's mapper (JSON, transcodings, upcasters)."""
    recorder: Any = app.recorder
    to_event = app.mapper.to_domain_event
    n = 0
    start = 1
    while page := recorder.select_notifications(start, 5000):
        for notification in page:
            to_event(notification)
        n += len(page)
        start = page[-1].id + 1
    return n


def _rebuild_all(system: System) -> None:
    for name in list(system.runner.views):
        system.runner.rebuild(name)


def rebuild_vs_scan(store: Store, sizes: Sizes, events: int) -> dict[str, Any]:
    system = System(store.url, in_process=False)
    app = MediationApplication(persistence_env(store.url))  # opened once, as the System is
    try:

        def rebuild() -> float:
            return rate(events, lambda: _rebuild_all(system))

        def scan() -> float:
            return rate(events, lambda: _scan(store))

        def read() -> float:
            return rate(events, lambda: _library_read(app))

        ours, theirs, library = alternate_many(max(3, sizes.rounds - 2), rebuild, scan, read)
        return {
            "ratio": ours / theirs,
            "ratio_read": ours / library,
            "rebuild_events_per_s": ours,
            "scan_events_per_s": theirs,
            "read_events_per_s": library,
            "events": events,
            "views": sorted(system.runner.views),
            "workers": rebuild_workers(),
        }
    finally:
        app.close()
        system.close()


def _naive_rows(store: Store) -> tuple[Any, Any]:
    raw = store.raw()
    try:
        order = store.position_column
        # only the kinds the fold reads: a naive query still filters by topic in SQL
        topics = ", ".join(f"'mediation.case.{k}'" for k in naive.TOPICS)
        rows = raw.execute(
            f"SELECT originator_id, topic, state FROM {store.events_table} "
            f"WHERE topic IN ({topics}) ORDER BY {order}"
        )
        return naive.caseload_by_city(rows, prefix="42", from_=STATS_PERIOD[0], to=STATS_PERIOD[1])
    finally:
        raw.close()


def stats_vs_naive(store: Store, sizes: Sizes) -> dict[str, Any]:
    system = System(store.url, in_process=False)
    try:
        system.catch_up()

        def query() -> Any:
            return caseload(
                system.engine,
                region="420000",
                from_=STATS_PERIOD[0],
                to=STATS_PERIOD[1],
                group_by="city",
            )

        ours = naive.project(query())
        theirs = _naive_rows(store)
        if ours != theirs:
            diff = {
                k: (ours[0].get(k), theirs[0].get(k))
                for k in set(ours[0]) | set(theirs[0])
                if ours[0].get(k) != theirs[0].get(k)
            }
            raise AssertionError(
                f"read model and naive fold disagree: {diff} {ours[1]} {theirs[1]}"
            )
        # Per round: the naive fold once, then the query QUERY_CALLS times in a row (each
        # call runs the whole query again: a fresh statement execution, no result kept).
        # The first call after the fold is also reported on its own ("cold": caches
        # flushed by the fold's second of parsing, and a statement the driver has not yet
        # prepared); the ratio uses the median of all the query's calls, as a report page
        # served repeatedly would see it.
        query_s: list[float] = []
        cold_s: list[float] = []
        naive_s: list[float] = []
        for _ in range(sizes.stats_runs):
            naive_s.append(seconds(lambda: _naive_rows(store)))
            calls = [seconds(query) for _ in range(QUERY_CALLS)]
            cold_s.append(calls[0])
            query_s.extend(calls)
        q, n = statistics.median(query_s), statistics.median(naive_s)
        cold = statistics.median(cold_s)
        # each round's own ratio (its fold against the median of its ten calls): the
        # lowest says whether the target held in every round, not only in the median
        per_round = [
            naive_s[r] / statistics.median(query_s[r * QUERY_CALLS : (r + 1) * QUERY_CALLS])
            for r in range(len(naive_s))
        ]
        return {
            "ratio": n / q,
            "ratio_lowest_round": min(per_round),
            "query_ms": q * 1000,
            "naive_ms": n * 1000,
            "query_cold_ms": cold * 1000,
            "ratio_cold": n / cold,
            "identical": True,
            "query": "caseload region=420000 group_by=city 2025-01-01..2025-06-30",
            "totals": {k: str(v) for k, v in ours[1].items()},
        }
    finally:
        system.close()


# ---------------------------------------------------------------------- API (bench.api_bench)


def api_figures(backend: str, store_url: str, sizes: Sizes) -> dict[str, Any]:
    """HTTP read and command vs a bare FastAPI hello, via ``bench.api_bench``'s servers.

    Uses its ``seed``/``start``/``measure`` (one uvicorn worker each, same settings),
    alternating hello, read and command every round; medians.
    """
    seed, start, measure = api_bench.seed, api_bench.start, api_bench.measure
    case_id, clerk, mediator = seed(store_url)
    procs = []
    try:
        hello_proc, hello = start("hello", store_url)
        procs.append(hello_proc)
        api_proc, api = start("api", store_url)
        procs.append(api_proc)
        read_headers = {"Authorization": f"Bearer {clerk}"}
        cmd_headers = {"Authorization": f"Bearer {mediator}"}
        n = sizes.api_requests

        def get_hello(c: Any, i: int) -> Any:
            return c.get("/hello")

        def read(c: Any, i: int) -> Any:
            return c.get(f"/api/v1/cases/{case_id}", headers=read_headers)

        def command(c: Any, i: int) -> Any:
            return c.post(
                f"/api/v1/cases/{case_id}/sessions",
                headers=cmd_headers,
                json={"held_on": "2025-03-04", "summary": f"session {i}"},
            )

        hellos, reads, commands = [], [], []
        for _ in range(max(3, sizes.rounds - 2)):
            hellos.append(measure(hello, get_hello, n, 1))
            reads.append(measure(api, read, n, 1))
            commands.append(measure(api, command, max(n // 2, 1), 1))
        h, r, c = (statistics.median(x) for x in (hellos, reads, commands))
        return {
            "api_read_vs_hello": {"ratio": r / h, "read_req_per_s": r, "hello_req_per_s": h},
            "api_command_vs_hello": {
                "ratio": c / h,
                "command_req_per_s": c,
                "hello_req_per_s": h,
            },
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


# ---------------------------------------------------------------------- growth


def _growth_child(
    url: str, backend: str, schema: str | None, path: str | None, runs: int
) -> dict[str, Any]:
    """Runs in a fresh process: its peak RSS is the rebuild's and the query's own."""
    system = System(url, in_process=False)
    try:
        rebuild_s = seconds(lambda: _rebuild_all(system))
        times = []
        for _ in range(runs):
            times.append(
                seconds(
                    lambda: caseload(
                        system.engine,
                        region="420000",
                        from_=STATS_PERIOD[0],
                        to=STATS_PERIOD[1],
                        group_by="city",
                    )
                )
            )
    finally:
        system.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # a partitioned rebuild's forked workers (the largest of them, once they are reaped)
    workers_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "rebuild_s": rebuild_s,
        "stats_ms": statistics.median(times) * 1000,
        "peak_rss_mib": peak_kib / 1024,
        "worker_peak_rss_mib": workers_kib / 1024,
    }


def growth(backend: str, workdir: Path, sizes: Sizes) -> dict[str, Any]:
    points = []
    spawn = multiprocessing.get_context("spawn")
    with fresh_store(backend, workdir) as store:
        MediationApplication(persistence_env(store.url)).close()  # creates the tables
        calls = 0
        copies = copied = 0
        base: int | None = None  # the last imported position, once copying has begun
        for target in sizes.growth_events:
            # about 8.8 events per generated row; import until the target is reached
            # (above IMPORT_UP_TO: copy the imported cases under new ids instead)
            while (have := _event_count(store)) < min(target, IMPORT_UP_TO):
                need = max(int((min(target, IMPORT_UP_TO) - have) / 8.5) + 1, 100)
                populate(store, workdir, need, tag=f"G{calls}-")
                calls += 1
            while (have := _event_count(store)) < target:
                if base is None:
                    base = _max_position(store)
                copies += 1
                copied += _copy_cases(store, copies, base, target - have)
            events = _event_count(store)
            # not a Pool: its workers are daemonic, and a daemonic process may not start
            # the rebuild's own workers
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                child = pool.submit(
                    _growth_child,
                    store.url,
                    backend,
                    store.schema,
                    str(store.path),
                    sizes.stats_runs,
                ).result()
            points.append(
                {
                    "events": events,
                    "copied_events": copied,
                    "rebuild_s": child["rebuild_s"],
                    "rebuild_events_per_s": events / child["rebuild_s"],
                    "stats_ms": child["stats_ms"],
                    "peak_rss_mib": child["peak_rss_mib"],
                    "worker_peak_rss_mib": child["worker_peak_rss_mib"],
                }
            )
    return {"points": points}


def fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return str(value)


__all__ = [
    "FULL",
    "QUICK",
    "Sizes",
    "api_figures",
    "command_vs_raw",
    "fmt",
    "growth",
    "import_vs_copy",
    "populate",
    "rebuild_vs_scan",
    "stats_vs_naive",
]
