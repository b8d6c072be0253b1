"""Personal data sealed per person, so that destroying one key erases one person.

Each applicant's name, resident ID number, phone, address and agent's name (and each
respondent's legal representative, address and agent's name, under a key per respondent)
are stored in the case's events as
*sealed values*: ``"pd1:" + subject + ":" + base64(nonce | AES-GCM ciphertext)``, each
field under the person's own data key (``subject`` is a random id, never derived from
the person's data; the associated data binds the value to its subject and field). The
keys live in a key table (``mediation.keystore``), wrapped by a key derived from
``MEDIATION_ENCRYPTION_KEY``. Erasure (``mediation retention --apply``) deletes a
person's key row: every sealed value of that person, in every stored event, becomes
unreadable and is shown as :data:`ERASED`.

The command seals (``Case.receive``) before the event is triggered, so the event's chain
is computed over the sealed values: erasure changes no stored byte of any event and the
integrity check is unaffected. The application installs its key table for each command
(:func:`sealing_with`), as it installs the recording clock; without one, values are
stored plain (events recorded before per-person keys, domain unit tests).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1:"
# the personal fields of an applicant (and, v1.1, their address and agent's name);
# worker_category and the agent's kind stay plain (the statistics use the category)
PERSONAL_FIELDS = ("name", "id_number", "phone", "address", "agent_name")
# a respondent is an organisation: its name and credit code stay plain (public registry
# data, searched and counted); the people and places recorded with it are sealed
RESPONDENT_PERSONAL_FIELDS = ("legal_representative", "address", "agent_name")
# what a view shows for a value whose person was erased
ERASED = "已删除"


class Vault(Protocol):
    """Where the data keys are: one per person (subject)."""

    def key_for(self, id_number: str | None) -> tuple[str, bytes]:
        """The subject and data key of the person with this ID number (made if new)."""
        ...

    def key_of(self, subject: str) -> bytes | None:
        """The subject's data key, or None once it has been erased."""
        ...


_current: ContextVar[Vault | None] = ContextVar("mediation_personal_vault", default=None)


@contextmanager
def sealing_with(vault: Vault) -> Iterator[None]:
    token = _current.set(vault)
    try:
        yield
    finally:
        _current.reset(token)


def current_vault() -> Vault | None:
    return _current.get()


def _aad(subject: str, field: str) -> bytes:
    return f"{PREFIX}{subject}:{field}".encode()


def seal(key: bytes | AESGCM, subject: str, field: str, value: str) -> str:
    """``value`` sealed under ``key`` (or its ``AESGCM``, made once for several fields)."""
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, value.encode("utf-8"), _aad(subject, field))
    return f"{PREFIX}{subject}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def subject_of(value: str) -> str | None:
    """The subject a sealed value belongs to; None for a plain (legacy) value."""
    if not value.startswith(PREFIX):
        return None
    subject, sep, _ = value[len(PREFIX) :].partition(":")
    return subject if sep else None


def open_value(key: bytes | None, field: str, value: str) -> str:
    """The plain text of a sealed value (``ERASED`` without a key); a plain value as is."""
    subject = subject_of(value)
    if subject is None:
        return value
    if key is None:
        return ERASED
    blob = base64.urlsafe_b64decode(value[len(PREFIX) + len(subject) + 1 :])
    try:
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], _aad(subject, field))
    except InvalidTag:
        return ERASED
    return plain.decode("utf-8")


def seal_applicant(data: Mapping[str, str]) -> dict[str, str]:
    """The applicant's validated fields with the personal ones sealed under the person's key.

    Plain when no vault is installed (see the module's docstring).
    """
    out = dict(data)
    vault = current_vault()
    if vault is None:
        return out
    subject, key = vault.key_for(out.get("id_number") or None)
    cipher = AESGCM(key)
    for name in PERSONAL_FIELDS:
        if name in out:
            out[name] = seal(cipher, subject, name, out[name])
    return out


def seal_respondent(data: Mapping[str, str]) -> dict[str, str]:
    """A respondent's fields with its personal ones sealed under a key of its own (one per
    respondent of a case: erased with the case's other parties). Nothing personal: no key."""
    out = dict(data)
    vault = current_vault()
    if vault is None or not any(out.get(name) for name in RESPONDENT_PERSONAL_FIELDS):
        return out
    subject, key = vault.key_for(None)
    for name in RESPONDENT_PERSONAL_FIELDS:
        if out.get(name):
            out[name] = seal(key, subject, name, out[name])
    return out


def subjects_in(data: Mapping[str, object]) -> set[str]:
    """The subjects whose sealed values appear in a party's fields."""
    found = set()
    for value in data.values():
        if isinstance(value, str):
            subject = subject_of(value)
            if subject is not None:
                found.add(subject)
    return found


def reveal(vault: Vault | None, data: Mapping[str, str]) -> dict[str, str]:
    """A party's fields with sealed values opened (``ERASED`` where the key is gone)."""
    out = dict(data)
    keys: dict[str, bytes | None] = {}
    for name, value in data.items():
        subject = subject_of(value) if isinstance(value, str) else None
        if subject is None:
            continue
        if subject not in keys:
            keys[subject] = vault.key_of(subject) if vault is not None else None
        out[name] = open_value(keys[subject], name, value)
    return out


def reveal_installed(data: Mapping[str, str]) -> dict[str, str]:
    """``reveal`` with the vault installed for the current command (a severance)."""
    return reveal(current_vault(), data)
