"""Finding: ID numbers sat in a world-readable SQLite file. The store's file (and SQLite's
-wal/-shm beside it) is readable and writable by its owner alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mediation.application import MediationApplication
from mediation.settings import persistence_env


def test_a_new_sqlite_store_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # what a default shell gives: files world-readable
    try:
        db = tmp_path / "store.sqlite3"
        app = MediationApplication(persistence_env(f"sqlite:///{db}"))
        try:
            files = [p for p in tmp_path.iterdir() if p.name.startswith("store.sqlite3")]
            assert db in files
            for path in files:
                mode = stat.S_IMODE(path.stat().st_mode)
                assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0, f"{path.name}: {oct(mode)}"
        finally:
            app.close()
    finally:
        os.umask(old)
