"""``mediation import FILE``: registered on the main CLI (``verify``: api/integrity_cli.py).

``api/cli.py`` builds the ``mediation`` command and calls :func:`register` to add it. It
opens the configured event store alone (no read models), from
``mediation.settings.get_settings()``; ``mediation verify`` checks an import afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from importer.run import DEFAULT_BATCH, import_file
from mediation.application import MediationApplication
from mediation.policy import PolicyBook
from mediation.settings import Settings, get_settings, persistence_env
from mediation.values import Actor, Role


def _application(settings: Settings) -> MediationApplication:
    policies = (
        PolicyBook.from_file(settings.policy_file) if settings.policy_file else PolicyBook.default()
    )
    env = persistence_env(
        settings.database_url,
        settings.encryption_key,
        lock_timeout=settings.postgres_lock_timeout,
    )
    return MediationApplication(env, policies=policies)


def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX export")],
    actor: Annotated[str, typer.Option(help="username recorded on every imported event")] = (
        "import"
    ),
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = DEFAULT_BATCH,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress lines")] = False,
) -> None:
    """Import historic cases (one row per case) as real case histories."""
    app = _application(get_settings())
    try:
        summary = import_file(
            app,
            file,
            actor=Actor(actor, Role.SYSTEM),
            progress=not quiet,
            batch_size=batch_size,
        )
    except ValueError as exc:  # unreadable file or missing columns
        typer.echo(f"import failed: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        app.close()
    for line in summary.lines():
        typer.echo(line)
    if summary.refused:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    cli.command("import")(import_command)
