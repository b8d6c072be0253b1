"""An import killed with SIGKILL halfway and run again ends with exactly the file's cases.

A real ``mediation import`` process (with two forked workers) is killed once some batches
are stored; the re-run skips what was stored and saves the rest. The store then holds each
of the file's cases once, each complete (the same events as a clean import of the file),
each person's key once, and the integrity check passes. On both backends.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from importer.build import case_id_for
from importer.run import import_file
from mediation.application import MediationApplication
from mediation.settings import persistence_env
from mediation.values import Actor, Role
from mediation.verify import verify
from tests.fixtures.make_historic_cases import generate, write_csv

ROWS = 1200
BATCH = 20
KILL_AFTER_CASES = 3 * BATCH  # a few batches stored: the import is well under way
REPO = Path(__file__).resolve().parents[2]


def _export(path: Path) -> list[dict[str, str]]:
    """A generated export in which some applicants bring more than one case (their cases
    fall to different workers, which must then share the person's one key)."""
    rows = generate(ROWS, seed=1313, prefix="续")
    fields = ("applicant_name", "applicant_id_number", "applicant_phone")
    for i in range(0, ROWS - 7, 9):
        rows[i + 7].update({f: rows[i][f] for f in fields})
    write_csv(rows, path)
    return rows


def _counts(url: str) -> tuple[int, int]:
    """(cases stored, key rows) read straight from the tables; (0, 0) before they exist."""
    queries = (
        "SELECT count(*) FROM {events} WHERE topic = 'mediation.case.Received'",
        "SELECT count(*) FROM personal_keys",
    )
    found = []
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            for q in queries:
                try:
                    found.append(conn.execute(q.format(events="stored_events")).fetchone()[0])
                except sqlite3.OperationalError:  # not created yet
                    found.append(0)
        finally:
            conn.close()
        return found[0], found[1]
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with psycopg.connect(url.split("?")[0], autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{schema}"')
        for q in queries:
            try:
                row = pg.execute(q.format(events="mediation_events")).fetchone()
                found.append(row[0] if row else 0)
            except psycopg.errors.UndefinedTable:
                found.append(0)
    return found[0], found[1]


def _start(url: str, path: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        MEDIATION_DATABASE_URL=url,
        MEDIATION_IMPORT_WORKERS="2",
        PYTHONPATH=str(REPO),
    )
    code = "from api.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "import", str(path), "--batch-size", str(BATCH), "--quiet"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the workers can be waited for
    )


def _gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def _store_by_case(url: str) -> tuple[dict[Any, list[tuple[int, str]]], Counter[str]]:
    """Each case's (version, topic) list and the applicants' key subjects as stored."""
    app = MediationApplication(persistence_env(url))
    try:
        cases: dict[Any, list[tuple[int, str]]] = {}
        subjects: Counter[str] = Counter()
        start = 1
        while page := app.recorder.select_notifications(start, 2000):
            start = page[-1].id + 1
            for n in page:
                if n.topic.startswith("mediation.case."):
                    cases.setdefault(n.originator_id, []).append((n.originator_version, n.topic))
                if n.topic == "mediation.case.Received":
                    event: Any = app.mapper.to_domain_event(n)
                    subjects[event.applicants[0]["id_number"].split(":")[1]] += 1
        assert verify(app).ok
        return cases, subjects
    finally:
        app.close()


def test_an_import_killed_halfway_and_run_again_stores_each_case_once(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    rows = _export(path)
    expected_ids = {case_id_for(r["old_case_no"]) for r in rows}
    persons = {r["applicant_id_number"] for r in rows}

    first = _start(database_url, path)
    try:
        deadline = time.monotonic() + 300
        while _counts(database_url)[0] < KILL_AFTER_CASES:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the import stored nothing in 5 minutes"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)  # the importing process only: workers die with it
        first.wait()
        while not _gone(first.pid):  # the forked workers follow it (PR_SET_PDEATHSIG)
            time.sleep(0.02)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    stored, keys = _counts(database_url)
    if stored >= ROWS:
        pytest.fail(f"the import finished before it was killed ({stored} cases): enlarge ROWS")

    again = _start(database_url, path)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()
    text = out.decode()
    assert f"cases imported:   {ROWS - stored} " in text, text
    assert f"already present:  {stored}\n" in text, text

    cases, subjects = _store_by_case(database_url)
    assert set(cases) == expected_ids
    for history in cases.values():  # no duplicate, no gap, no half case
        assert [v for v, _ in history] == list(range(1, len(history) + 1))

    # the same events as one clean import of the file (in a store of its own)
    clean_url = f"sqlite:///{tmp_path / 'clean.sqlite3'}"
    clean = MediationApplication(persistence_env(clean_url))
    try:
        summary = import_file(
            clean, path, actor=Actor("import", Role.SYSTEM), progress=False, workers=1
        )
    finally:
        clean.close()
    assert (summary.imported, summary.refused) == (ROWS, [])
    clean_cases, _ = _store_by_case(clean_url)
    assert cases == clean_cases

    # one key per person, used by every case of that person; none left over by the kill
    assert _counts(database_url)[1] == len(persons) == len(subjects)
    assert sum(subjects.values()) == ROWS
    assert keys <= len(persons)
