"""The integrity keys: one secret that keys the event chain and signs checkpoints.

The root secret is ``MEDIATION_INTEGRITY_KEY`` (base64 of at least 32 random bytes; ``mediation
integrity new-key`` prints one) or, when that is not set, ``MEDIATION_SECRET_KEY``. With
neither (development only: production refuses), a fixed development root is used, with a
warning: chains then prove nothing. Two keys are derived from the root with HKDF-SHA256 under
distinct labels, so neither can be computed from the other nor from a token:

- the **chain key** (HMAC-SHA256 of every case and studio event, ``mediation.keyed_chain``),
  named in each chain value by its *key id* (not secret), so that keys can be rotated;
- the **checkpoint signing key** (Ed25519, ``mediation.checkpoints``).

Neither is ever stored in the database. ``MEDIATION_INTEGRITY_OLD_KEYS`` (comma-separated,
same format) lists retired root secrets: their chains still verify and their checkpoints'
signatures are still trusted; new events and checkpoints use the current one only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("mediation.integrity")

CHAIN_LABEL = b"mediation/integrity/chain/v1"
SIGNING_LABEL = b"mediation/integrity/checkpoint-signing/v1"
FROM_SECRET_LABEL = b"mediation/integrity/from-secret-key/v1"
UNCONFIGURED_LABEL = b"mediation/integrity/unconfigured-development/v1"
MIN_KEY_BYTES = 32


class IntegritySettings(BaseSettings):
    """The integrity settings (same environment and ``.env`` as ``mediation.settings``)."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIATION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    integrity_key: str = ""
    integrity_old_keys: str = ""
    secret_key: str = ""
    environment: str = "development"
    checkpoint_dir: str = ""
    checkpoint_interval: float = 300.0


def _hkdf(root: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(root)


def decode_key(text: str) -> bytes:
    """A root secret from its base64 text (standard or URL-safe alphabet, padding optional)."""
    raw = text.strip()
    padded = raw + "=" * (-len(raw) % 4)
    try:
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an integrity key is base64 text (mediation integrity new-key)") from None
    if len(decoded) < MIN_KEY_BYTES:
        raise ValueError(f"an integrity key has at least {MIN_KEY_BYTES} bytes")
    return decoded


def new_key() -> str:
    """A fresh root secret, as ``MEDIATION_INTEGRITY_KEY`` takes it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode().rstrip("=")


def hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 as hex, by ``cryptography`` (the project's one crypto library)."""
    mac = HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize().hex()


@dataclass(frozen=True)
class IntegrityKey:
    """One root secret and what is derived from it."""

    root: bytes = field(repr=False)

    @cached_property
    def chain_key(self) -> bytes:
        return _hkdf(self.root, CHAIN_LABEL)

    @cached_property
    def key_id(self) -> str:
        """Eight hex digits naming the chain key in chain values (reveals nothing of it)."""
        return hmac_sha256(self.chain_key, b"key-id")[:8]

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(_hkdf(self.root, SIGNING_LABEL))

    @cached_property
    def public_key_hex(self) -> str:
        raw = self.signing_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return raw.hex()


def key_text(key: IntegrityKey) -> str:
    """The root secret as ``MEDIATION_INTEGRITY_KEY`` takes it (a secret: handle as one)."""
    return base64.urlsafe_b64encode(key.root).decode().rstrip("=")


@dataclass(frozen=True)
class IntegrityKeys:
    """The current key (writes) and the retired ones (still verify)."""

    current: IntegrityKey
    retired: tuple[IntegrityKey, ...] = ()
    derived_from_secret: bool = False
    unconfigured: bool = False  # the fixed development root: no protection at all

    def chain_key(self, key_id: str) -> bytes | None:
        for key in (self.current, *self.retired):
            if key.key_id == key_id:
                return key.chain_key
        return None

    def trusted_public_key(self, public_key_hex: str) -> Ed25519PublicKey | None:
        for key in (self.current, *self.retired):
            if hmac.compare_digest(key.public_key_hex, public_key_hex):
                return key.signing_key.public_key()
        return None


def keys_from(integrity_key: str, old_keys: str = "", secret_key: str = "") -> IntegrityKeys:
    """The keys from the settings' texts: the integrity key, else derived from the secret
    key, else the fixed development root."""
    retired = tuple(IntegrityKey(decode_key(k)) for k in old_keys.split(",") if k.strip())
    if integrity_key.strip():
        return IntegrityKeys(IntegrityKey(decode_key(integrity_key)), retired)
    if secret_key:
        root = _hkdf(secret_key.encode("utf-8"), FROM_SECRET_LABEL)
        return IntegrityKeys(IntegrityKey(root), retired, derived_from_secret=True)
    root = _hkdf(b"", UNCONFIGURED_LABEL)
    return IntegrityKeys(IntegrityKey(root), retired, unconfigured=True)


class IntegrityKeyMissing(RuntimeError):
    pass


_warned: list[bool] = []


@lru_cache(maxsize=1)
def configured_keys() -> IntegrityKeys:
    """The configured keys (read once). Production without any key refuses; development
    without one warns: the fixed development root is public, so nothing is protected."""
    s = IntegritySettings()
    keys = keys_from(s.integrity_key, s.integrity_old_keys, s.secret_key)
    if keys.unconfigured:
        if s.environment == "production":
            raise IntegrityKeyMissing(
                "production needs MEDIATION_INTEGRITY_KEY (or MEDIATION_SECRET_KEY) for the "
                "tamper-evident chain: mediation integrity new-key"
            )
        if not _warned:
            _warned.append(True)  # once per process
            log.warning(
                "no MEDIATION_INTEGRITY_KEY or MEDIATION_SECRET_KEY: events are chained with "
                "the public development key (no tamper evidence against an insider)"
            )
    return keys


_override: ContextVar[IntegrityKeys | None] = ContextVar("mediation_integrity_keys", default=None)


def current_keys() -> IntegrityKeys:
    """The keys in force: those of ``using_keys`` if inside it, else the configured ones."""
    return _override.get() or configured_keys()


@contextmanager
def using_keys(keys: IntegrityKeys) -> Iterator[None]:
    token = _override.set(keys)
    try:
        yield
    finally:
        _override.reset(token)


def checkpoint_dir_for(database_url: str, configured: str = "") -> Path | None:
    """Where checkpoints go: the configured directory, else beside a SQLite file, else none.

    A PostgreSQL store has no default: the operator names a directory the database's
    users cannot write (docs/integrity.md).
    """
    if configured.strip():
        return Path(configured.strip())
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///") :]
        if path and path != ":memory:" and not path.startswith("file:"):
            return Path(path + ".checkpoints")
    return None
