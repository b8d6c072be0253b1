"""Integrity keys (derivation, rotation) and the checkpoint files themselves."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mediation import integrity_keys
from mediation.application import MediationApplication
from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import (
    IntegrityKeyMissing,
    IntegrityKeys,
    checkpoint_dir_for,
    configured_keys,
    decode_key,
    keys_from,
    new_key,
    using_keys,
)
from mediation.integrity_walk import Kind, Report, verify
from tests.support.factories import new_case, ready_for_entrustment

OLD, NEW = new_key(), new_key()


def _verify(app: MediationApplication, keys: IntegrityKeys, directory: Path) -> Report:
    return verify(app, keys, CheckpointStore(directory, keys), lambda: datetime.now(UTC))


def _record(app: MediationApplication, keys: IntegrityKeys) -> None:
    with using_keys(keys):
        case = new_case(app)
        ready_for_entrustment(app, case.id, case.received_on)


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "checkpoints"


def test_keys_are_derived_apart_and_named_without_revealing_them() -> None:
    configured = keys_from(OLD)
    derived = keys_from("", secret_key="a-secret-key-for-tokens")
    assert derived.derived_from_secret and not configured.derived_from_secret
    assert configured.current.chain_key != decode_key(OLD)  # derived, not the root itself
    assert configured.current.chain_key != derived.current.chain_key
    assert len(configured.current.key_id) == 8
    assert configured.current.key_id == keys_from(OLD).current.key_id  # stable
    assert configured.current.key_id not in configured.current.chain_key.hex()
    with pytest.raises(ValueError, match="at least 32 bytes"):
        decode_key("c2hvcnQ")
    with pytest.raises(ValueError, match="base64"):
        decode_key("not base64 at all!")


def test_without_any_key_development_warns_and_production_refuses(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("MEDIATION_INTEGRITY_KEY", "MEDIATION_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env
    configured_keys.cache_clear()
    monkeypatch.setattr(integrity_keys, "_warned", [])
    try:
        monkeypatch.setenv("MEDIATION_ENVIRONMENT", "development")
        assert configured_keys().unconfigured
        assert "public development key" in caplog.text
        configured_keys.cache_clear()
        monkeypatch.setenv("MEDIATION_ENVIRONMENT", "production")
        with pytest.raises(IntegrityKeyMissing, match="MEDIATION_INTEGRITY_KEY"):
            configured_keys()
        monkeypatch.setenv("MEDIATION_SECRET_KEY", "a-production-secret-of-enough-length-0123")
        assert configured_keys().derived_from_secret
    finally:
        configured_keys.cache_clear()


def test_checkpoint_directory_defaults_beside_a_sqlite_file_only() -> None:
    assert checkpoint_dir_for("sqlite:///./m.sqlite3") == Path("./m.sqlite3.checkpoints")
    assert checkpoint_dir_for("sqlite:///:memory:") is None
    assert checkpoint_dir_for("postgresql://u@h:5432/db") is None
    assert checkpoint_dir_for("postgresql://u@h/db", " /srv/cp ") == Path("/srv/cp")


def test_a_rotated_key_keeps_old_chains_and_checkpoints_verifying(
    app: MediationApplication, directory: Path
) -> None:
    old = keys_from(OLD)
    _record(app, old)
    assert _verify(app, old, directory).written is not None
    rotated = keys_from(NEW, old_keys=OLD)
    _record(app, rotated)
    report = _verify(app, rotated, directory)
    assert report.ok, [str(f) for f in report.findings]
    assert report.written is not None and report.written.public_key != old.current.public_key_hex

    forgotten = keys_from(NEW)  # the old key dropped from the configuration
    report = _verify(app, forgotten, directory)
    kinds = {f.kind for f in report.findings}
    assert Kind.UNKNOWN_KEY in kinds and Kind.CHECKPOINT in kinds
    assert any("not trusted" in str(f) for f in report.findings)


def _writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_checkpoint_files_are_read_only_and_any_change_to_them_is_found(
    app: MediationApplication, directory: Path
) -> None:
    keys = keys_from(OLD)
    for _ in range(3):
        _record(app, keys)
        assert _verify(app, keys, directory).written is not None
    files = sorted(directory.glob("*.json"))
    assert [p.name for p in files] == ["00000001.json", "00000002.json", "00000003.json"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in files)
    assert not CheckpointStore(directory, keys)._create("00000002.json", b"{}")  # never replaced

    second = files[1]
    original = second.read_bytes()
    document = json.loads(original)
    document["events"] += 1  # altered without the key
    _writable(second)
    second.write_text(json.dumps(document))
    found = _verify(app, keys, directory)
    assert [str(f) for f in found.findings] == [
        "checkpoint: checkpoint #2: signature does not match (altered)"
    ]

    attacker = keys_from(NEW)  # re-signed by someone else's key
    document["public_key"] = attacker.current.public_key_hex
    second.write_text(json.dumps(document))
    found = _verify(app, keys, directory)
    assert "checkpoint #2: signed by a key that is not trusted" in str(found.findings[0])

    second.write_bytes(original)
    assert _verify(app, keys, directory).ok
    os.remove(second)  # a checkpoint removed
    found = _verify(app, keys, directory)
    assert "checkpoint #2 is missing" in str(found.findings[0])
    assert found.written is None
