"""The ``mediation`` command: ``serve``, ``users add|disable|enable|password|history`` (and the
read-model commands)."""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

import typer

from api import integrity_cli
from api.calendar_cli import calendar_cli
from api.hygiene import docs_enabled
from api.logs import configure
from api.retention_cli import register as register_retention_commands
from api.security import InsecureSettings, uses_random_key, with_keys
from api.users import UserError, UserStore, changes_text
from importer import cli as importer_cli
from mediation.settings import get_settings
from projections.cli import register as register_read_model_commands
from projections.demo import generate, seats

cli = typer.Typer(help="Labour-dispute mediation case system (裁调对接).", no_args_is_help=True)
users_cli = typer.Typer(help="Manage users.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(calendar_cli, name="calendar")

log = logging.getLogger("api.cli")

# development only: `serve --demo` is refused in production
DEMO_PASSWORD = "Yangtze-ferry-2026"
DEMO_ROLES = ("admin", "clerk", "mediator", "coordinator", "auditor")


@users_cli.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin, clerk, mediator, coordinator or auditor")],
    region: Annotated[str, typer.Option(help="6-digit region code of the jurisdiction")],
    studio: Annotated[str | None, typer.Option(help="studio id (coordinators, mediators)")] = None,
    mediator: Annotated[str | None, typer.Option(help="mediator id (mediators)")] = None,
    replace: Annotated[bool, typer.Option(help="overwrite an existing user")] = False,
    name: Annotated[str, typer.Option(help="the person's name, shown on the pages")] = "",
) -> None:
    """Create a user; the password is read from standard input."""
    password = _read_password("Password")
    try:
        studio_id = UUID(studio) if studio else None
        mediator_id = UUID(mediator) if mediator else None
    except ValueError:
        typer.echo("error: --studio and --mediator take UUIDs", err=True)
        raise typer.Exit(2) from None
    with _accounts() as store:
        user = store.add(
            username,
            password,
            role=role,
            region_code=region,
            studio_id=studio_id,
            mediator_id=mediator_id,
            replace=replace,
            actor=cli_actor(),
            display_name=name,
        )
    typer.echo(f"user {user.username} ({user.role.value}, {user.region_code}) saved")


@contextmanager
def _accounts() -> Iterator[UserStore]:
    """The account store for one CLI command; a refused change exits 1 with its code."""
    store = UserStore(get_settings().database_url)
    try:
        yield store
    except UserError as exc:
        typer.echo(f"error: {exc.code}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def cli_actor() -> str:
    """Who made a change on the command line: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _set_disabled(username: str, disabled: bool) -> None:
    with _accounts() as store:
        account = store.set_disabled(username, disabled, actor=cli_actor())
    state = "disabled" if account.disabled else "enabled"
    typer.echo(f"user {username} {state} (its earlier tokens are refused)")


@users_cli.command("disable")
def users_disable(username: str) -> None:
    """Disable an account: it cannot log in and its tokens are refused."""
    _set_disabled(username, True)


@users_cli.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled account (tokens from before stay refused)."""
    _set_disabled(username, False)


@users_cli.command("password")
def users_password(username: str) -> None:
    """Change a password (read from standard input); the user's tokens are refused after."""
    password = _read_password("New password")
    with _accounts() as store:
        store.set_password(username, password, actor=cli_actor())
    typer.echo(f"password of {username} changed")


@users_cli.command("history")
def users_history(
    username: Annotated[str | None, typer.Argument(help="one account (default: all)")] = None,
) -> None:
    """Every recorded change to accounts: when, what, the credential version, by whom."""
    with _accounts() as store:
        for line in changes_text(store.history(username)):
            typer.echo(line)


DEMO_NAMES = {
    "admin": "孙立新",
    "clerk": "刘晓燕",
    "coordinator": "陈建国",
    "auditor": "周敏",
}


def load_demo(system: Any, store: UserStore, cases: int = 300, seed: int = 7) -> None:
    """Load the demo province and create one demo user per role, printing them: the clerk
    in Wuhan, the mediator with the most open cases there, their studio's coordinator."""
    summary = generate(system, cases=cases, seed=seed, progress=True, recent=max(cases // 10, 12))
    region = str(summary.first_studio_region)
    province = region[:2] + "0000"
    seat = seats(system, system.today())
    studio_id = seat.studio_id or (summary.studio_ids[0] if summary.studio_ids else None)
    mediator_id = seat.mediator_id
    mediator_name = ""
    if studio_id is not None:
        studio = system.app.get_studio(studio_id)
        active = studio.active_mediators(system.today())
        if mediator_id is None and active:
            mediator_id = active[0].mediator_id
        mediator_name = next((m.name for m in active if m.mediator_id == mediator_id), "")
    typer.echo(f"\nDemo users (password for all: {DEMO_PASSWORD}):")
    for role in DEMO_ROLES:
        name = f"demo-{role}"
        # admin and auditor see the whole province; the clerk Wuhan; the others their studio's
        where = {
            "admin": province,
            "auditor": province,
            "clerk": seat.clerk_region,
        }.get(role, seat.studio_region if seat.studio_id else region)
        store.add(
            name,
            DEMO_PASSWORD,
            role=role,
            region_code=where,
            studio_id=studio_id if role in ("coordinator", "mediator") else None,
            mediator_id=mediator_id if role == "mediator" else None,
            replace=True,
            actor="demo",
            display_name=mediator_name if role == "mediator" else DEMO_NAMES.get(role, ""),
        )
        typer.echo(f"  {name:<18} role={role:<12} region={where}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo: Annotated[bool, typer.Option(help="on an empty store, load the demo data")] = False,
    demo_cases: Annotated[int, typer.Option(help="number of demo cases")] = 300,
) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from api.app import create_app, make_system

    configured = get_settings()
    configure(configured.log_level)
    if demo and configured.environment == "production":
        typer.echo("refusing to start: --demo is for development only", err=True)
        raise typer.Exit(1)
    try:
        settings = with_keys(configured)
    except (InsecureSettings, ValueError) as exc:
        typer.echo(f"refusing to start: {exc}", err=True)
        raise typer.Exit(1) from None
    if uses_random_key(configured, settings):
        typer.echo(
            "development: no MEDIATION_SECRET_KEY, so tokens are signed with a random key "
            "made for this run (logins end when the server stops)"
        )
    system = make_system(settings)
    if demo:
        if system.app.max_position() == 0:
            store = UserStore(settings.database_url)
            try:
                load_demo(system, store, cases=demo_cases)
            finally:
                store.close()
        else:
            typer.echo("the store is not empty: demo data not loaded (demo users unchanged)")
    app = create_app(system, settings)
    docs = "/docs, /openapi.json" if docs_enabled(settings) else "/openapi.json"
    typer.echo(f"serving on http://{host}:{port}  (OpenAPI: {docs})")
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from localhost;
    # api.security.client_address believes it only from MEDIATION_TRUSTED_PROXIES
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False)


register_read_model_commands(cli)  # `mediation project` and `mediation demo`
importer_cli.register(cli)  # `mediation import FILE`
integrity_cli.register(cli)  # `mediation verify`, `mediation integrity ...`
register_retention_commands(cli)  # `mediation retention` and `mediation erasures`


def main() -> None:
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
