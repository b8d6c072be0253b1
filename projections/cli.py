"""``mediation project`` and ``mediation demo``: commands added to the main Typer app.

mediation project [--once]          catch every read model up to the log head, then exit
                                    (a view that has tracked nothing: built by a rebuild)
mediation project --follow          keep following the log (production worker)
mediation project --rebuild NAME    rebuild a view (cases | organisation | search | all) side by
                                    side from position zero and swap it in
mediation demo --cases N --seed S   fill the store with demo data, then project it
"""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated

import typer
from tqdm import tqdm

from projections import worker
from projections.demo import generate
from projections.runner import PoisonEvent
from projections.system import System

log = logging.getLogger("projections.cli")

VIEW_NAMES = ("cases", "organisation")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="event store URL (default: MEDIATION_DATABASE_URL)"),
]


def _catch_up_with_progress(system: System, label: str) -> int:
    """Catch every view up, with a progress bar each.

    A view that has tracked nothing yet (a new or emptied read-model database, the demo's
    first projection) is built by a rebuild instead: the same tables (the rebuild tests
    compare them with catch-up), in large batches and in parallel parts (much faster, see
    docs/performance.md). If the rebuild fails (an event no view can process, say), it
    falls back to catching up, which stops right before that event and reports it as a
    halt (``PoisonEvent``).
    """
    runner = system.runner
    position = 0
    for view in runner.views.values():
        tracked = runner.tracked(view.name)
        behind = runner.head() - tracked
        with tqdm(total=max(behind, 0), desc=f"{label} {view.name}", unit="ev") as bar:
            if tracked == 0 and behind > 0:
                try:
                    position = runner.rebuild(view.name, progress=bar.update)
                    continue
                except Exception as error:
                    log.warning(
                        "building %s from position zero failed (%s: %s); catching up instead",
                        view.name,
                        type(error).__name__,
                        error,
                    )
                    bar.reset(total=max(runner.head() - runner.tracked(view.name), 0))
            position = runner.catch_up_view(view, progress=bar.update)
    return position


def register(cli: typer.Typer) -> None:
    @cli.command("project")
    def project(
        follow: Annotated[bool, typer.Option("--follow", help="keep following the log")] = False,
        rebuild: Annotated[
            str | None,
            typer.Option("--rebuild", metavar="NAME", help="cases, organisation or all"),
        ] = None,
        once: Annotated[bool, typer.Option("--once", help="catch up once and exit")] = False,
        database_url: DatabaseUrl = None,
        read_model_url: Annotated[str | None, typer.Option("--read-model-url")] = None,
        batch: Annotated[int | None, typer.Option("--batch", help="events per commit")] = None,
        poll: Annotated[float, typer.Option("--poll", help="seconds between polls")] = 0.2,
    ) -> None:
        """Project the event log into the read models."""
        if sum([follow, rebuild is not None, once]) > 1:
            raise typer.BadParameter("choose one of --follow, --rebuild, --once")
        if follow:

            def make() -> System:
                return System(database_url, in_process=False, read_model_url=read_model_url)

            try:
                with contextlib.suppress(KeyboardInterrupt):
                    worker.follow(make, poll=poll, batch_size=batch, report=typer.echo)
            except PoisonEvent:
                raise typer.Exit(worker.HALTED) from None
            return
        system = System(database_url, in_process=False, read_model_url=read_model_url)
        try:
            if batch:
                system.runner.batch_size = batch
            if rebuild is not None:
                names = VIEW_NAMES if rebuild == "all" else (rebuild,)
                for name in names:
                    if name not in VIEW_NAMES:
                        raise typer.BadParameter(
                            f"unknown view {name!r}; choose {', '.join(VIEW_NAMES)} or all"
                        )
                for name in names:
                    with tqdm(total=system.runner.head(), desc=f"rebuild {name}", unit="ev") as bar:
                        position = system.runner.rebuild(name, progress=bar.update)
                    typer.echo(f"rebuilt {name} to position {position} and swapped it in")
                return
            position = _catch_up_with_progress(system, "project")
            typer.echo(f"tracked position {position}, lag {system.lag()}")
        except PoisonEvent as poison:  # a rebuild stops at it too (nothing is swapped in)
            typer.echo(f"HALTED: {poison}", err=True)
            raise typer.Exit(3) from None
        finally:
            system.close()

    @cli.command("demo")
    def demo(
        cases: Annotated[int, typer.Option("--cases", min=1, help="number of cases")] = 200,
        seed: Annotated[int, typer.Option("--seed", help="same seed, same data")] = 1,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Fill the store with a realistic Hubei (studios, mediators, cases)."""
        system = System(database_url, in_process=False)
        try:
            summary = generate(system, cases=cases, seed=seed, progress=True)
            _catch_up_with_progress(system, "project")
            typer.echo(
                f"{summary.cases} cases, {len(summary.studio_ids)} studios, "
                f"{len(summary.mediator_ids)} mediators; first studio in "
                f"{summary.first_studio_region}"
            )
        finally:
            system.close()
