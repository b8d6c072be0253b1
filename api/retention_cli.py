"""``mediation retention`` (who is past retention; ``--apply`` erases them) and
``mediation erasures`` (the record of every erasure). See docs/operations.md."""

from __future__ import annotations

import getpass
import os
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import inspect

from mediation import retention
from mediation.application import MediationApplication
from mediation.settings import get_settings, persistence_env
from projections.search import forget, search_tables
from projections.sql import make_engine
from projections.system import READ_MODEL_URL_ENV

CHINA = ZoneInfo("Asia/Shanghai")


def _application() -> MediationApplication:
    settings = get_settings()
    return MediationApplication(
        persistence_env(
            settings.database_url,
            settings.encryption_key,
            lock_timeout=settings.postgres_lock_timeout,
        )
    )


def _forget_search_terms(app: MediationApplication) -> int:
    """Drop the erased people's hashed terms from the search index (``projections.search``);
    a rebuild would not write them again (their fields can no longer be opened)."""
    settings = get_settings()
    url = os.environ.get(READ_MODEL_URL_ENV) or settings.database_url
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(search_tables()["search"].name):
            return 0
        return forget(engine, lambda subject: app.personal.key_of(subject) is not None)
    finally:
        engine.dispose()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def retention_command(
    apply: Annotated[
        bool,
        typer.Option("--apply/--dry-run", help="destroy the keys (default: only list)"),
    ] = False,
    today: Annotated[
        str | None, typer.Option(help="the reference date, YYYY-MM-DD (default: today)")
    ] = None,
    years: Annotated[
        int, typer.Option(help="retention period after a case concluded, in years")
    ] = retention.DEFAULT_YEARS,
    in_use_minutes: Annotated[
        int, typer.Option(help="leave alone a key a command used this recently")
    ] = int(retention.IN_USE.total_seconds() // 60),
) -> None:
    """List the people whose cases all concluded more than the retention period ago;
    with --apply, destroy their keys (their names, ID numbers and phones become unreadable
    everywhere) and record the erasure."""
    app = _application()
    try:
        try:
            on = date.fromisoformat(today) if today else app.today()
            plan = retention.plan(app, on, years)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(
            f"retention {plan.years} years on {plan.today}: cases concluded on or before "
            f"{plan.cutoff} are past it"
        )
        for person in plan.erase:
            cases = ", ".join(str(c)[:8] for c in person.cases)
            typer.echo(
                f"  {person.subject}  {person.masked_name}  concluded {person.concluded_on}"
                f"  cases {cases}"
            )
        typer.echo(
            f"{len(plan.erase)} people ({plan.cases} cases) past retention; "
            f"{plan.kept} kept; {len(plan.orphans)} unused keys"
        )
        if plan.legacy:
            typer.echo(
                f"{len(plan.legacy)} cases past retention were recorded before per-person "
                "keys: their personal data is in immutable events and cannot be erased here "
                "(docs/operations.md)"
            )
        if not apply:
            typer.echo("dry run: nothing erased (--apply to erase)")
            return
        erased = retention.apply(
            app,
            plan,
            actor=_actor(),
            now=datetime.now(CHINA),
            in_use=timedelta(minutes=max(in_use_minutes, 0)),
        )
        skipped = len(plan.erase) + len(plan.orphans) - erased
        typer.echo(f"erased {erased} keys" + (f"; {skipped} in use, left" if skipped else ""))
        forgotten = _forget_search_terms(app)
        typer.echo(f"search index: {forgotten} terms of erased people removed")
    finally:
        app.close()


def erasures_command() -> None:
    """Every erasure recorded: when, by whom, the rule, how many keys and cases."""
    app = _application()
    try:
        for e in app.personal.erasures():
            typer.echo(
                f"{e.erased_at.isoformat(timespec='seconds')}  {e.actor}  "
                f"retention {e.retention_years} years, cutoff {e.cutoff}: "
                f"{e.keys} keys, {e.cases} cases"
            )
    finally:
        app.close()


def register(cli: typer.Typer) -> None:
    cli.command("retention")(retention_command)
    cli.command("erasures")(erasures_command)
