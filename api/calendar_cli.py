"""``mediation calendar …``: load a year's State Council holiday notice, check one, list them.

``api/cli.py`` adds this sub-app. Each command opens the configured event store alone (no
read models), from ``mediation.settings.get_settings()``; the file format is described in
``mediation.calendar_file`` and the procedure in docs/operations.md ("Holiday calendar").
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from mediation.application import MediationApplication
from mediation.calendar import calendar_warning
from mediation.calendar_book import LoadResult
from mediation.calendar_file import NoticeError, parse_notice
from mediation.policy import PolicyBook
from mediation.settings import Settings, get_settings, persistence_env
from mediation.values import Actor, Role

calendar_cli = typer.Typer(
    help="The holiday calendar (节假日安排): load a year's State Council notice.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="the year's notice as TOML")
]


def _application(settings: Settings) -> MediationApplication:
    policies = (
        PolicyBook.from_file(settings.policy_file) if settings.policy_file else PolicyBook.default()
    )
    return MediationApplication(
        persistence_env(settings.database_url, settings.encryption_key), policies=policies
    )


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        typer.echo("error: 文件须为 UTF-8 编码 / the file must be UTF-8 text", err=True)
        raise typer.Exit(2) from None


def _days(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:12])
    return shown + (f" … (+{len(days) - 12})" if len(days) > 12 else "")


def result_lines(result: LoadResult) -> list[str]:
    """What a load did, for the operator (the CLI and the admin page)."""
    y = result.loaded
    n = y.notice
    if not result.recorded:
        return [
            f"{n.year}: unchanged, already version {y.version} ({n.reference}); nothing recorded"
        ]
    lines = [
        f"{n.year}: recorded version {y.version} — {n.reference}, issued {n.issued_on}, "
        f"{len(n.holidays)} holidays, {len(n.make_up_workdays)} make-up workdays",
        f"  before: {result.source_before or 'no data (Monday-Friday)'}",
    ]
    if result.became_days_off:
        lines.append(f"  now days off: {_days(result.became_days_off)}")
    if result.became_working_days:
        lines.append(f"  now working days: {_days(result.became_working_days)}")
    if not result.became_days_off and not result.became_working_days:
        lines.append("  no day changes status")
    lines.append(
        "  deadlines computed from now on use it; deadlines already recorded are not recomputed"
    )
    return lines


@calendar_cli.command("check")
def check(file: FileArg) -> None:
    """Validate a notice file without recording anything (exit 1 if it is refused)."""
    try:
        notice = parse_notice(_read(file))
    except NoticeError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{file}: OK — {notice.year}, {notice.reference}, {len(notice.holidays)} holidays, "
        f"{len(notice.days_off)} days off, {len(notice.make_up_workdays)} make-up workdays"
    )


@calendar_cli.command("load")
def load(
    file: FileArg,
    by: Annotated[
        str | None, typer.Option(help="who loads it (recorded); default: your login name")
    ] = None,
) -> None:
    """Validate a year's notice and record it as that year's next version."""
    text = _read(file)
    app = _application(get_settings())
    try:
        result = app.calendars.load(Actor(by or getpass.getuser(), Role.ADMIN), text)
    except NoticeError as exc:
        typer.echo(f"{file}: {exc}\nnothing recorded", err=True)
        raise typer.Exit(1) from None
    finally:
        app.close()
    for line in result_lines(result):
        typer.echo(line)


@calendar_cli.command("list")
def list_years() -> None:
    """Every loaded version of every year, and what the calendar in force warns of today."""
    app = _application(get_settings())
    try:
        book = app.calendars.book()
        calendar = app.calendars.current()
        today = app.today()
    finally:
        app.close()
    for year, versions in sorted((book.years if book else {}).items()):
        for v in versions:
            newest = " (in force)" if v is versions[-1] else ""
            typer.echo(
                f"{year} v{v.version}{newest}: {v.notice.reference}, issued {v.notice.issued_on}; "
                f"loaded by {v.loaded_by} on {v.loaded_on}, sha256 {v.digest[:12]}"
            )
    typer.echo(f"calendar in force: {calendar.version}")
    warning = calendar_warning(calendar, today)
    if warning is not None:
        typer.echo(f"warning: {warning.en}\n  {warning.zh}")
