"""``mediation verify`` and ``mediation integrity …``: registered on the main CLI.

``verify`` walks the whole log (chains, versions, order) and compares it with every signed
checkpoint; it prints each finding (aggregate id, version, position, kind) and exits 1 if
there is any; otherwise it appends a new checkpoint. ``integrity new-key`` prints a fresh
``MEDIATION_INTEGRITY_KEY``; ``integrity status`` shows the key ids and checkpoints in use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from mediation.application import MediationApplication
from mediation.checkpoints import CheckpointStore
from mediation.integrity_keys import (
    IntegritySettings,
    checkpoint_dir_for,
    configured_keys,
    key_text,
    new_key,
)
from mediation.integrity_walk import verify
from mediation.settings import get_settings, persistence_env

NO_CHECKPOINTS = (
    "warning: no checkpoint directory (MEDIATION_CHECKPOINT_DIR): deleted events and "
    "aggregates cannot be detected"
)


def _store() -> tuple[MediationApplication, CheckpointStore | None]:
    settings = get_settings()
    app = MediationApplication(persistence_env(settings.database_url, settings.encryption_key))
    directory = checkpoint_dir_for(settings.database_url, IntegritySettings().checkpoint_dir)
    store = CheckpointStore(directory, configured_keys()) if directory is not None else None
    return app, store


def verify_command(
    no_checkpoint: Annotated[
        bool, typer.Option("--no-checkpoint", help="check only; write no new checkpoint")
    ] = False,
) -> None:
    """Check every event's chain and order against the signed checkpoints; exit 1 on a finding."""
    app, store = _store()
    try:
        report = verify(
            app, configured_keys(), store, lambda: datetime.now(UTC), write=not no_checkpoint
        )
    finally:
        app.close()
    for finding in report.findings:
        typer.echo(str(finding))
    if store is None:
        typer.echo(NO_CHECKPOINTS, err=True)
    summary = (
        f"checked {report.aggregates} aggregates, {report.events} events up to position "
        f"{report.position} against {report.checkpoints} checkpoint(s): "
    )
    typer.echo(summary + ("OK" if report.ok else f"{len(report.findings)} finding(s)"))
    if report.written is not None:
        typer.echo(f"wrote {report.written} to {report.checkpoint_dir}")
    elif not report.ok and store is not None:
        typer.echo("no checkpoint written while there are findings")
    if not report.ok:
        raise typer.Exit(1)


integrity_cli = typer.Typer(help="Integrity keys and checkpoints (see docs/integrity.md).")


@integrity_cli.command("new-key")
def new_key_command() -> None:
    """Print a fresh random key for MEDIATION_INTEGRITY_KEY (keep it out of the database)."""
    typer.echo(new_key())


@integrity_cli.command("export-key")
def export_key_command() -> None:
    """Print the root secret in use (e.g. to pin a key derived from MEDIATION_SECRET_KEY as
    MEDIATION_INTEGRITY_KEY before rotating the secret key). It is a secret."""
    typer.echo("the integrity key follows: keep it secret", err=True)
    typer.echo(key_text(configured_keys().current))


@integrity_cli.command("status")
def status_command() -> None:
    """The key ids in use and the checkpoint directory (no secrets are printed)."""
    keys = configured_keys()
    settings = get_settings()
    source = (
        "UNCONFIGURED: the public development key"
        if keys.unconfigured
        else "derived from MEDIATION_SECRET_KEY"
        if keys.derived_from_secret
        else "configured"
    )
    typer.echo(f"chain key id {keys.current.key_id} ({source})")
    typer.echo(f"checkpoint public key {keys.current.public_key_hex}")
    for old in keys.retired:
        typer.echo(f"retired key id {old.key_id}, public key {old.public_key_hex}")
    directory = checkpoint_dir_for(settings.database_url, IntegritySettings().checkpoint_dir)
    if directory is None:
        typer.echo(NO_CHECKPOINTS)
        return
    log = CheckpointStore(directory, keys).load()
    typer.echo(f"checkpoints in {directory}: {len(log.checkpoints)}")
    if log.last is not None:
        typer.echo(f"latest: {log.last}")
    for problem in log.problems:
        typer.echo(f"problem: {problem}")


def register(cli: typer.Typer) -> None:
    cli.command("verify")(verify_command)
    cli.add_typer(integrity_cli, name="integrity")
