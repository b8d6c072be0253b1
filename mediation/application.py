"""Application services: run commands (``mediation.commands``) that load, decide and save.

``execute`` runs a case command, ``execute_on_studio`` a studio command, ``receive`` and
``register`` the two that create their aggregate; ``app.assess(ctx, case_id, on=...)``
and its siblings are the same with the command's fields as keywords. Every command:
1. replays an ``Idempotency-Key`` if the same user sent it before (same request → the
   first result; different request → ``IdempotencyKeyReused``);
2. loads the case and checks the expected version (``VersionConflict`` if it moved on);
3. lets the aggregate decide (rules raise named errors; nothing is recorded on refusal);
4. saves the new events, together with the idempotency record, in one transaction.
A save that loses a race with no expected version is re-loaded and re-decided once.

Performance (docs/performance.md): the repository keeps an LRU cache of aggregates
(``AGGREGATE_CACHE_MAXSIZE``, default 1000; an empty value turns it off). Every ``get``
of a cached aggregate still reads the events recorded after the cached version from the
database and applies them (the library's fast-forward), so writers in other threads and
processes are seen exactly as by a full replay; callers get a deep copy, never the
cached object. A command may also reuse the case its caller loaded moments before
(``CommandContext.loaded``, the API's gate): if that case is stale the save loses the
race like any other and the retry loads afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from eventsourcing.utils import strtobool

from mediation import commands, numbering, rules
from mediation.calendar import in_force
from mediation.calendar_book import HolidayCalendars
from mediation.case import Case
from mediation.clock import Clock, recording_with
from mediation.commands import (
    AppointMediator,
    CaseCommand,
    CloseStudio,
    Command,
    ReceiveCase,
    RegisterStudio,
    RetireMediator,
    StudioCommand,
)
from mediation.errors import (
    DateInFuture,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from mediation.keystore import vault_of
from mediation.numbering import NumberSequence
from mediation.organisation import Studio
from mediation.personal import sealing_with
from mediation.policy import Policy, PolicyBook
from mediation.repository import CachingRepository, DateAsISO, IdempotencyRecord
from mediation.values import (
    Actor,
    Role,
)

log = logging.getLogger("mediation.application")

CHINA = ZoneInfo("Asia/Shanghai")
# how often a command that draws a case number may lose its number to a racing writer
# before it gives up (each loss means another writer's number was stored: progress)
NUMBERING_ATTEMPTS = 50


@dataclass(frozen=True)
class CommandContext:
    actor: Actor
    expected_version: int | None = None
    idempotency_key: str | None = None
    # The target aggregate as the caller just loaded it (a private copy, e.g. by the API's
    # gate), used for the first attempt instead of loading it again. Optional: a stale
    # copy only makes the save lose the optimistic-concurrency race (then reloaded).
    loaded: Aggregate | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class HistoryEntry:
    position: int
    type: str
    recorded_at: datetime
    actor: str
    actor_role: str
    on: date | None
    data: dict[str, Any]


A = TypeVar("A", bound=Aggregate)
C = TypeVar("C", bound=Command)
R = TypeVar("R")
P = ParamSpec("P")


def _targeted(
    command: Callable[P, C], run: Callable[[MediationApplication, CommandContext, UUID, C], R]
) -> Callable[Concatenate[MediationApplication, CommandContext, UUID, P], R]:
    """An application method taking a command's fields as keywords: ``app.assess(ctx,
    case_id, on=..., ...)`` is ``app.execute(ctx, case_id, Assess(on=..., ...))``."""

    def method(
        app: MediationApplication,
        ctx: CommandContext,
        target: UUID,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        return run(app, ctx, target, command(*args, **kwargs))

    method.__doc__ = command.__doc__
    return method


def _targetless(
    command: Callable[P, C], run: Callable[[MediationApplication, CommandContext, C], R]
) -> Callable[Concatenate[MediationApplication, CommandContext, P], R]:
    """The same for a command that creates its aggregate."""

    def method(
        app: MediationApplication, ctx: CommandContext, /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return run(app, ctx, command(*args, **kwargs))

    method.__doc__ = command.__doc__
    return method


class _Loader(Generic[A]):
    """Loads the target for each attempt: the caller's copy first (if usable), then fresh."""

    def __init__(self, preloaded: A | None, fresh: Callable[[], A]) -> None:
        self._preloaded = preloaded
        self._fresh = fresh

    def peek(self) -> A | None:
        """The caller's copy the next load will return (None: it loads afresh)."""
        return self._preloaded

    def __call__(self) -> A:
        preloaded, self._preloaded = self._preloaded, None
        return preloaded if preloaded is not None else self._fresh()


class MediationApplication(Application[UUID]):
    name = "mediation"
    is_snapshotting_enabled = False
    # Defaults, overridden by the process environment (``MEDIATION_AGGREGATE_CACHE_MAXSIZE``
    # or ``AGGREGATE_CACHE_MAXSIZE``; an empty value disables the cache; note that the
    # library reads "0" as *unbounded*) and by the ``env`` argument. Fast-forward stays on
    # (the library's default) and aggregates are deep-copied out of the cache.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policies: PolicyBook | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(env)
        self.policies = policies or PolicyBook.default()
        self.clock: Clock = clock or (lambda: datetime.now(CHINA))
        self._after_save: list[Callable[[], object]] = []
        self._local = threading.local()
        self.calendars = HolidayCalendars(self, self._save)  # loaded holiday notices
        self.personal = vault_of(self, self.env)  # per-person keys (mediation.personal)

    def construct_repository(self) -> Repository[UUID]:
        """The library's settings (same environment keys), with ``CachingRepository``."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CachingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    @property
    def _cached(self) -> CachingRepository:
        return cast(CachingRepository, self.repository)

    def changed_since(self, aggregate_id: UUID, version: int) -> bool:
        """Whether events after ``version`` of an aggregate are stored (for caches)."""
        return self._cached.changed_since(aggregate_id, version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # ------------------------------------------------------------------ plumbing

    def on_saved(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` after every successful save (in-process projections).

        It may return the lowest position its read models reached (see
        ``projected_position``); an exception is logged, never raised to the command.
        """
        self._after_save.append(callback)

    def last_position(self) -> int | None:
        """Notification position of this thread's latest save (for read-your-writes)."""
        return cast("int | None", getattr(self._local, "position", None))

    def projected_position(self) -> int | None:
        """Position every ``on_saved`` callback reported for this thread's latest save.

        A callback may return the lowest position its read models have reached (an
        ``int``); when all of them did, without raising, a caller can skip waiting for the
        read models (``last_position() <= projected_position()``). None otherwise.
        """
        return cast("int | None", getattr(self._local, "projected", None))

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def today(self) -> date:
        return self.clock().astimezone(CHINA).date()

    def policy_on(self, on: date) -> Policy:
        return self.policies.in_force(on)

    def _check_date(self, on: date, field: str = "on") -> None:
        if on > self.today():
            raise DateInFuture(f"{field} {on.isoformat()} is later than today", field=field)

    def _save(self, *aggregates: Aggregate) -> None:
        self._local.projected = None
        recordings = self.save(*aggregates)
        if recordings:
            self._local.position = max(r.notification.id for r in recordings)
        reached: list[int] = []
        known = bool(self._after_save)
        for callback in self._after_save:
            try:
                result = callback()
            except Exception:  # a read model must never undo an acknowledged command
                log.exception("in-process projection failed after save")
                known = False
                continue
            if isinstance(result, int) and not isinstance(result, bool):
                reached.append(result)
            else:
                known = False  # this callback did not say: readers wait for the read models
        self._local.projected = min(reached) if known else None

    @staticmethod
    def fingerprint(command: str, target: UUID | None, params: Mapping[str, Any]) -> str:
        payload = json.dumps(
            {"command": command, "target": str(target) if target else None, "params": params},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def _replay(self, ctx: CommandContext, fingerprint: str) -> Case | None:
        if not ctx.idempotency_key:
            return None
        try:
            record = cast(
                IdempotencyRecord,
                self.repository.get(
                    IdempotencyRecord.id_for(ctx.actor.username, ctx.idempotency_key)
                ),
            )
        except AggregateNotFoundError:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used before with a different request"
            )
        return cast(Case, self.repository.get(record.result_id, version=record.result_version))

    def get_case(self, case_id: UUID) -> Case:
        try:
            return cast(Case, self.repository.get(case_id))
        except AggregateNotFoundError:
            raise NotFound(f"no case {case_id}") from None

    def get_cases(self, case_ids: Sequence[UUID]) -> list[Case]:
        """The cases among ``case_ids`` (in order; missing ids and other aggregates left
        out), read by one statement rather than one per case (lists of cases)."""
        return [a for a in self._cached.get_many(case_ids) if isinstance(a, Case)]

    def _case_loader(self, ctx: CommandContext, case_id: UUID) -> _Loader[Case]:
        """Loads the case for each attempt: the caller's copy first (if usable), then fresh."""
        return self._loader(ctx, case_id, Case, self.get_case)

    def _loader(
        self, ctx: CommandContext, aggregate_id: UUID, kind: type[A], get: Callable[[UUID], A]
    ) -> _Loader[A]:
        loaded = ctx.loaded
        usable = (
            isinstance(loaded, kind)
            and loaded.id == aggregate_id
            and not loaded.pending_events
            and (ctx.expected_version is None or loaded.version == ctx.expected_version)
        )
        return _Loader(loaded if usable else None, lambda: get(aggregate_id))  # type: ignore[arg-type]

    def _run(
        self,
        ctx: CommandContext,
        command: str,
        target: UUID | None,
        params: Mapping[str, Any],
        decide: Callable[[], tuple[Aggregate, Sequence[Aggregate]]],
        ahead: Callable[[], dict[UUID, int]] | None = None,
    ) -> Aggregate:
        """Replay, decide and save; ``decide`` returns (result, aggregates to save).

        ``ahead`` names the cached aggregates ``decide`` will load, with their cached
        versions: their newer events and the holiday calendar's are read by one statement
        (``CachingRepository.prefetched``) instead of one each.
        """
        fingerprint = self.fingerprint(command, target, params)
        replayed = self._replay(ctx, fingerprint)
        if replayed is not None:
            return replayed
        attempt, numbering_races = 1, 0
        while True:
            with (
                self._cached.prefetched(ahead() if ahead else {}),
                recording_with(self.clock),
                in_force(self.calendars.current()),
                sealing_with(self.personal),
            ):
                result, to_save = decide()
            extra: list[Aggregate] = []
            if ctx.idempotency_key:
                extra.append(
                    IdempotencyRecord.record(
                        ctx.actor.username, ctx.idempotency_key, fingerprint, result
                    )
                )
            try:
                self._save(*to_save, *extra)
            except IntegrityError:
                replayed = self._replay(ctx, fingerprint)
                if replayed is not None:
                    return replayed
                if any(isinstance(a, NumberSequence) for a in to_save):
                    # another writer took that number first (or changed the case): decide
                    # again; the case's own version is checked again by ``decide``
                    numbering_races += 1
                    if numbering_races < NUMBERING_ATTEMPTS:
                        log.info("command %s lost a number to a race; drawing again", command)
                        time.sleep(random.uniform(0, 0.002 * numbering_races))
                        continue
                if ctx.expected_version is not None or attempt >= 2:
                    raise VersionConflict("another command changed the case first") from None
                log.info("command %s lost a race; re-deciding once", command)
                attempt += 1
                continue
            return result

    def _numbered(
        self, actor: Actor, on: date, cases: Sequence[Case], parent: Case | None = None
    ) -> list[Aggregate]:
        """Give ``cases`` the numbers their pending events make due (``Case.numbers_due``),
        each drawn from its sequence; returns the sequences to save with them (ADR 0012)."""
        sequences: list[Aggregate] = []
        for case in cases:
            for kind in case.numbers_due():
                policy = self.policy_on(on)
                commission = numbering.commission_of(case.region_code, policy.numbering)
                sequence = self._sequence(actor, policy, on, commission.code, kind, on.year)
                number, text = sequence.issue(
                    actor=actor, policy=policy, on=on, case_id=case.id, commission=commission
                )
                case.record_number(
                    actor=actor,
                    policy=policy,
                    on=on,
                    kind=kind,
                    number=text,
                    commission=commission.code,
                    year=on.year,
                    sequence=number,
                    severed_from_number=parent.display_number if parent is not None else None,
                )
                sequences.append(sequence)
        return sequences

    def _sequence(
        self,
        actor: Actor,
        policy: Policy,
        on: date,
        commission: str,
        kind: numbering.NumberKind,
        year: int,
    ) -> NumberSequence:
        """The sequence as stored now (from its last event only), or a new one."""
        sequence_id = numbering.sequence_id(commission, kind, year)
        last = next(iter(self.events.get(sequence_id, desc=True, limit=1)), None)
        if last is None:
            return NumberSequence.start(
                actor=actor, policy=policy, on=on, commission=commission, kind=kind, year=year
            )
        return NumberSequence.resume(last, commission, kind, year)

    def sequence(
        self, commission: str, kind: numbering.NumberKind, year: int
    ) -> NumberSequence | None:
        """A sequence as stored (every event replayed), or None: for reports and tests."""
        try:
            return cast(
                NumberSequence,
                self.repository.get(numbering.sequence_id(commission, kind, year)),
            )
        except AggregateNotFoundError:
            return None

    # ------------------------------------------------------------------ case commands

    def execute(self, ctx: CommandContext, case_id: UUID, command: CaseCommand) -> Case:
        """Run a command on a case; the result is the case (for a severance, the new one)."""
        self._check_date(command.day)
        load = self._case_loader(ctx, case_id)

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            case = load()
            if ctx.expected_version is not None and case.version != ctx.expected_version:
                raise VersionConflict(
                    f"the case is at version {case.version}, not {ctx.expected_version}"
                )
            acting = case.mediator_id if ctx.actor.role is Role.MEDIATOR else None
            created = command.decide(case, ctx.actor, self.policy_on(command.day), self)
            if acting is not None and case.studio_id is not None:
                # brief §8 rule 16, after the state and the case's own rules: nothing dated
                # on or after the mediator's retirement
                roster = self.get_studio(case.studio_id).roster
                rules.require_mediator_active(roster.get(acting), acting, command.day)
            if created is None:
                return case, [case, *self._numbered(ctx.actor, command.day, [case])]
            sequences = self._numbered(ctx.actor, command.day, [created], parent=case)
            return created, [case, created, *sequences]

        def ahead() -> dict[UUID, int]:
            """The calendar's record, the case (unless the caller's copy is used) and, for
            a mediator, the studio of rule 16, each at its cached version."""
            wanted = self.calendars.watch()
            case: Any = load.peek()
            if case is None:
                case = self._cached.peek(case_id)
                if case is not None:
                    wanted[case_id] = case.version
            studio_id = getattr(case, "studio_id", None)
            if (
                ctx.actor.role is Role.MEDIATOR
                and isinstance(studio_id, UUID)
                and (studio := self._cached.peek(studio_id)) is not None
            ):
                wanted[studio_id] = studio.version
            return wanted

        return cast(
            Case,
            self._run(ctx, command.command_name, case_id, command.params(), decide, ahead),
        )

    def receive(self, ctx: CommandContext, command: ReceiveCase) -> Case:
        self._check_date(command.received_on, "received_on")
        if command.infringement_known_on is not None:
            self._check_date(command.infringement_known_on, "infringement_known_on")
        if command.employment_ended_on is not None:
            self._check_date(command.employment_ended_on, "employment_ended_on")

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            case = command.decide(ctx.actor, self.policy_on(command.received_on))
            return case, [case, *self._numbered(ctx.actor, command.received_on, [case])]

        return cast(Case, self._run(ctx, command.command_name, None, command.params(), decide))

    # one method per command, taking its fields as keywords
    receive_case = _targetless(ReceiveCase, receive)
    assess = _targeted(commands.Assess, execute)
    record_consent = _targeted(commands.RecordConsent, execute)
    entrust = _targeted(commands.Entrust, execute)
    sever = _targeted(commands.Sever, execute)
    assign_mediator = _targeted(commands.AssignMediator, execute)
    record_session = _targeted(commands.RecordSession, execute)
    extend_window = _targeted(commands.ExtendWindow, execute)
    sign_agreement = _targeted(commands.SignAgreement, execute)
    record_performance = _targeted(commands.RecordPerformance, execute)
    apply_review = _targeted(commands.ApplyReview, execute)
    issue_statement = _targeted(commands.IssueStatement, execute)
    serve_statement = _targeted(commands.ServeStatement, execute)
    retract_statement = _targeted(commands.RetractStatement, execute)
    fail = _targeted(commands.Fail, execute)
    decide_acceptance = _targeted(commands.DecideAcceptance, execute)
    extend_award_period = _targeted(commands.ExtendAwardPeriod, execute)
    close_case = _targeted(commands.Close, execute)
    decide_review = _targeted(commands.DecideReview, execute)
    withdraw_review = _targeted(commands.WithdrawReview, execute)
    recuse = _targeted(commands.Recuse, execute)
    transfer = _targeted(commands.Transfer, execute)
    verify_performance = _targeted(commands.VerifyPerformance, execute)  # law-a

    # ------------------------------------------------------------------ case reads

    def history(self, case_id: UUID) -> list[HistoryEntry]:
        events = list(self.events.get(case_id))
        if not events:
            raise NotFound(f"no case {case_id}")
        entries = []
        skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
        for ev in events:
            data = {k: v for k, v in ev.__dict__.items() if k not in skip}
            entries.append(
                HistoryEntry(
                    position=ev.originator_version,
                    type=type(ev).__name__,
                    recorded_at=cast(datetime, getattr(ev, "timestamp")),  # noqa: B009
                    actor=str(data.pop("actor", "")),
                    actor_role=str(data.pop("actor_role", "")),
                    on=data.pop("on", None),
                    data=data,
                )
            )
        return entries

    # ------------------------------------------------------------------ organisation

    def get_studio(self, studio_id: UUID, field: str | None = None) -> Studio:
        try:
            aggregate: Aggregate = self.repository.get(studio_id)
        except AggregateNotFoundError:
            if field:
                raise ValidationFailed(f"no studio {studio_id}", field=field) from None
            raise NotFound(f"no studio {studio_id}") from None
        if not isinstance(aggregate, Studio):
            if field:
                raise ValidationFailed(f"no studio {studio_id}", field=field)
            raise NotFound(f"no studio {studio_id}")
        return aggregate

    def register(self, ctx: CommandContext, command: RegisterStudio) -> Studio:
        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            studio = command.decide(ctx.actor, self.policy_on(command.day))
            return studio, [studio]

        return cast(Studio, self._run(ctx, command.command_name, None, command.params(), decide))

    def execute_on_studio(
        self, ctx: CommandContext, studio_id: UUID, command: StudioCommand
    ) -> Studio:
        self._check_date(command.day, command.day_field)
        load = self._loader(ctx, studio_id, Studio, self.get_studio)

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            studio = load()
            if ctx.expected_version is not None and studio.version != ctx.expected_version:
                raise VersionConflict(f"the studio is at version {studio.version}")
            command.decide(studio, ctx.actor, self.policy_on(command.day))
            return studio, [studio]

        return cast(
            Studio, self._run(ctx, command.command_name, studio_id, command.params(), decide)
        )

    def appoint(
        self, ctx: CommandContext, studio_id: UUID, command: AppointMediator
    ) -> tuple[Studio, UUID]:
        """The studio and the new mediator's id (also when the command is replayed)."""
        studio = self.execute_on_studio(ctx, studio_id, command)
        return studio, command.appointed(studio)

    register_studio = _targetless(RegisterStudio, register)
    appoint_mediator = _targeted(AppointMediator, appoint)
    retire_mediator = _targeted(RetireMediator, execute_on_studio)
    close_studio = _targeted(CloseStudio, execute_on_studio)

    def studio_ids(self) -> list[UUID]:
        """Every studio ever registered, oldest first (a small set: read from the log)."""
        return [n.originator_id for n in self._select_by_topic([Studio.Registered.TOPIC])]

    def _select_by_topic(self, topics: Sequence[str]) -> Iterator[Any]:
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 500, topics=topics)
            if not batch:
                return
            yield from batch
            start = batch[-1].id + 1
