"""Application services: commands as methods that load, decide and save.

Every command:
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
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import strtobool

from mediation import rules
from mediation.calendar import in_force
from mediation.calendar_book import HolidayCalendars
from mediation.case import ApplicantInput, Case, Claim, RespondentInput
from mediation.clock import Clock, recording_time, recording_with
from mediation.errors import (
    DateInFuture,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from mediation.organisation import Studio
from mediation.policy import Policy, PolicyBook
from mediation.values import (
    Actor,
    ClaimCategory,
    Disposition,
    Party,
    Route,
    StudioKind,
)

log = logging.getLogger("mediation.application")

CHINA = ZoneInfo("Asia/Shanghai")
_IDEMPOTENCY_NS = uuid5(NAMESPACE_URL, "urn:mediation:idempotency")


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class IdempotencyRecord(Aggregate):
    """Remembers a keyed command's request fingerprint and its result, atomically with it."""

    TOPIC = "mediation.application.IdempotencyRecord"

    class Created(Aggregate.Created):
        """Library base class, redefined here only to give it a stable topic (unused)."""

        TOPIC = "mediation.application.IdempotencyRecord.Created"

    class Recorded(Aggregate.Created):
        TOPIC = "mediation.application.IdempotencyRecord.Recorded"
        class_version = 1
        username: str
        fingerprint: str
        result_id: UUID
        result_version: int

        @staticmethod
        def create_timestamp() -> datetime:
            return recording_time()

        def apply(self, record: IdempotencyRecord) -> None:
            record.username = self.username
            record.fingerprint = self.fingerprint
            record.result_id = self.result_id
            record.result_version = self.result_version

    def __init__(self) -> None:
        self.username = ""
        self.fingerprint = ""
        self.result_id = UUID(int=0)
        self.result_version = 0

    @staticmethod
    def id_for(username: str, key: str) -> UUID:
        return uuid5(_IDEMPOTENCY_NS, f"{username}\n{key}")

    @classmethod
    def record(
        cls, username: str, key: str, fingerprint: str, result: Aggregate
    ) -> IdempotencyRecord:
        return cls._create(
            cls.Recorded,
            id=cls.id_for(username, key),
            username=username,
            fingerprint=fingerprint,
            result_id=result.id,
            result_version=result.version,
        )


class CachingRepository(Repository[UUID]):
    """The library's repository, with each cached aggregate's fast-forward *and copy* atomic.

    The library fast-forwards a cached aggregate under a lock but deep-copies it after
    releasing that lock, so another thread's fast-forward of the same aggregate could
    change it mid-copy (a torn copy). Here both happen under one lock per aggregate
    (striped: 64 locks), so every caller gets a whole aggregate at one version.
    """

    STRIPES = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            return super().get(aggregate_id, **kwargs)


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


Decision = Callable[[Case], Sequence[Aggregate]]
A = TypeVar("A", bound=Aggregate)


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

    def _case_loader(self, ctx: CommandContext, case_id: UUID) -> Callable[[], Case]:
        """Loads the case for each attempt: the caller's copy first (if usable), then fresh."""
        return self._loader(ctx, case_id, Case, self.get_case)

    def _loader(
        self, ctx: CommandContext, aggregate_id: UUID, kind: type[A], get: Callable[[UUID], A]
    ) -> Callable[[], A]:
        preloaded: list[A] = []
        loaded = ctx.loaded
        if (
            isinstance(loaded, kind)
            and loaded.id == aggregate_id
            and not loaded.pending_events
            and (ctx.expected_version is None or loaded.version == ctx.expected_version)
        ):
            preloaded.append(loaded)

        def load() -> A:
            return preloaded.pop() if preloaded else get(aggregate_id)

        return load

    def _run(
        self,
        ctx: CommandContext,
        command: str,
        target: UUID | None,
        params: Mapping[str, Any],
        decide: Callable[[], tuple[Aggregate, Sequence[Aggregate]]],
    ) -> Aggregate:
        """Replay, decide and save; ``decide`` returns (result, aggregates to save)."""
        fingerprint = self.fingerprint(command, target, params)
        replayed = self._replay(ctx, fingerprint)
        if replayed is not None:
            return replayed
        for attempt in (1, 2):
            with recording_with(self.clock), in_force(self.calendars.current()):
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
                if ctx.expected_version is not None or attempt == 2:
                    raise VersionConflict("another command changed the case first") from None
                log.info("command %s lost a race; re-deciding once", command)
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _case_command(
        self,
        ctx: CommandContext,
        case_id: UUID,
        command: str,
        params: Mapping[str, Any],
        on: date,
        act: Callable[[Case, Policy], None],
    ) -> Case:
        self._check_date(on)
        load = self._case_loader(ctx, case_id)

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            case = load()
            if ctx.expected_version is not None and case.version != ctx.expected_version:
                raise VersionConflict(
                    f"the case is at version {case.version}, not {ctx.expected_version}"
                )
            act(case, self.policy_on(on))
            return case, [case]

        return cast(Case, self._run(ctx, command, case_id, params, decide))

    # ------------------------------------------------------------------ case commands

    def receive_case(
        self,
        ctx: CommandContext,
        *,
        region_code: str,
        received_on: date,
        applicant: ApplicantInput,
        respondent: RespondentInput,
        claims: Sequence[Claim],
        infringement_known_on: date | None = None,
    ) -> Case:
        self._check_date(received_on, "received_on")
        if infringement_known_on is not None:
            self._check_date(infringement_known_on, "infringement_known_on")
        params = {
            "region_code": region_code,
            "received_on": received_on,
            "applicant": applicant.__dict__,
            "respondent": respondent.__dict__,
            "claims": [c.to_dict() for c in claims],
            "infringement_known_on": infringement_known_on,
        }

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            case = Case.receive(
                actor=ctx.actor,
                policy=self.policy_on(received_on),
                region_code=region_code,
                received_on=received_on,
                applicant=applicant,
                respondent=respondent,
                claims=claims,
                infringement_known_on=infringement_known_on,
            )
            return case, [case]

        return cast(Case, self._run(ctx, "receive_case", None, params, decide))

    def assess(
        self,
        ctx: CommandContext,
        case_id: UUID,
        *,
        on: date,
        within_scope: bool,
        meets_acceptance_conditions: bool,
        suitable_for_mediation: bool,
        reason: str,
    ) -> Case:
        params = {
            "on": on,
            "within_scope": within_scope,
            "meets_acceptance_conditions": meets_acceptance_conditions,
            "suitable_for_mediation": suitable_for_mediation,
            "reason": reason,
        }
        return self._case_command(
            ctx,
            case_id,
            "assess",
            params,
            on,
            lambda case, policy: case.assess(actor=ctx.actor, policy=policy, **params),  # type: ignore[arg-type]
        )

    def record_consent(
        self, ctx: CommandContext, case_id: UUID, *, party: Party, given: bool, on: date
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "record_consent",
            {"party": party, "given": given, "on": on},
            on,
            lambda case, policy: case.record_consent(
                actor=ctx.actor, policy=policy, on=on, party=party, given=given
            ),
        )

    def entrust(
        self, ctx: CommandContext, case_id: UUID, *, studio_id: UUID, route: Route, on: date
    ) -> Case:
        def act(case: Case, policy: Policy) -> None:
            studio = self.get_studio(studio_id, field="studio_id")
            case.entrust(actor=ctx.actor, policy=policy, on=on, studio=studio, route=route)

        return self._case_command(
            ctx, case_id, "entrust", {"studio_id": studio_id, "route": route, "on": on}, on, act
        )

    def sever(
        self,
        ctx: CommandContext,
        case_id: UUID,
        *,
        categories: Sequence[ClaimCategory],
        on: date,
    ) -> Case:
        """Sever claims into a new case; returns the new case."""
        self._check_date(on)
        params = {"claim_categories": sorted(c.value for c in categories), "on": on}
        load = self._case_loader(ctx, case_id)

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            case = load()
            if ctx.expected_version is not None and case.version != ctx.expected_version:
                raise VersionConflict(
                    f"the case is at version {case.version}, not {ctx.expected_version}"
                )
            new_case = case.sever(
                actor=ctx.actor, policy=self.policy_on(on), on=on, categories=categories
            )
            return new_case, [case, new_case]

        return cast(Case, self._run(ctx, "sever", case_id, params, decide))

    def assign_mediator(
        self, ctx: CommandContext, case_id: UUID, *, mediator_id: UUID, on: date
    ) -> Case:
        def act(case: Case, policy: Policy) -> None:
            if case.studio_id is None:
                # not entrusted: let the transition rule answer
                rules.require_transition("assign_mediator", case.status, case.route)
            assert case.studio_id is not None
            studio = self.get_studio(case.studio_id)
            case.assign_mediator(
                actor=ctx.actor, policy=policy, on=on, studio=studio, mediator_id=mediator_id
            )

        return self._case_command(
            ctx, case_id, "assign_mediator", {"mediator_id": mediator_id, "on": on}, on, act
        )

    def record_session(
        self, ctx: CommandContext, case_id: UUID, *, held_on: date, summary: str
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "record_session",
            {"held_on": held_on, "summary": summary},
            held_on,
            lambda case, policy: case.record_session(
                actor=ctx.actor, policy=policy, on=held_on, summary=summary
            ),
        )

    def extend_window(self, ctx: CommandContext, case_id: UUID, *, days: int, on: date) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "extend_window",
            {"days": days, "on": on},
            on,
            lambda case, policy: case.extend_window(
                actor=ctx.actor, policy=policy, on=on, days=days
            ),
        )

    def sign_agreement(
        self,
        ctx: CommandContext,
        case_id: UUID,
        *,
        signed_on: date,
        amount: Decimal,
        performance_due_on: date,
        terms: str,
    ) -> Case:
        params = {
            "signed_on": signed_on,
            "amount": amount,
            "performance_due_on": performance_due_on,
            "terms": terms,
        }
        return self._case_command(
            ctx,
            case_id,
            "sign_agreement",
            params,
            signed_on,
            lambda case, policy: case.sign_agreement(
                actor=ctx.actor,
                policy=policy,
                on=signed_on,
                amount=amount,
                performance_due_on=performance_due_on,
                terms=terms,
            ),
        )

    def record_performance(
        self, ctx: CommandContext, case_id: UUID, *, on: date, amount_paid: Decimal, complete: bool
    ) -> Case:
        params = {"on": on, "amount_paid": amount_paid, "complete": complete}
        return self._case_command(
            ctx,
            case_id,
            "record_performance",
            params,
            on,
            lambda case, policy: case.record_performance(
                actor=ctx.actor, policy=policy, on=on, amount_paid=amount_paid, complete=complete
            ),
        )

    def apply_review(self, ctx: CommandContext, case_id: UUID, *, applied_on: date) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "apply_review",
            {"applied_on": applied_on},
            applied_on,
            lambda case, policy: case.apply_review(actor=ctx.actor, policy=policy, on=applied_on),
        )

    def issue_statement(
        self, ctx: CommandContext, case_id: UUID, *, issued_on: date, number: str
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "issue_statement",
            {"issued_on": issued_on, "number": number},
            issued_on,
            lambda case, policy: case.issue_statement(
                actor=ctx.actor, policy=policy, on=issued_on, number=number
            ),
        )

    def serve_statement(
        self, ctx: CommandContext, case_id: UUID, *, party: Party, on: date
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "serve_statement",
            {"party": party, "on": on},
            on,
            lambda case, policy: case.serve_statement(
                actor=ctx.actor, policy=policy, on=on, party=party
            ),
        )

    def retract_statement(
        self, ctx: CommandContext, case_id: UUID, *, party: Party, on: date
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "retract_statement",
            {"party": party, "on": on},
            on,
            lambda case, policy: case.retract_statement(
                actor=ctx.actor, policy=policy, on=on, party=party
            ),
        )

    def fail(self, ctx: CommandContext, case_id: UUID, *, on: date, reason: str) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "fail",
            {"on": on, "reason": reason},
            on,
            lambda case, policy: case.fail(actor=ctx.actor, policy=policy, on=on, reason=reason),
        )

    def decide_acceptance(
        self, ctx: CommandContext, case_id: UUID, *, accepted: bool, on: date, reason: str = ""
    ) -> Case:
        params = {"accepted": accepted, "on": on, "reason": reason}
        return self._case_command(
            ctx,
            case_id,
            "decide_acceptance",
            params,
            on,
            lambda case, policy: case.decide_acceptance(
                actor=ctx.actor, policy=policy, on=on, accepted=accepted, reason=reason
            ),
        )

    def extend_award_period(
        self, ctx: CommandContext, case_id: UUID, *, days: int, approved_by: str, on: date
    ) -> Case:
        params = {"days": days, "approved_by": approved_by, "on": on}
        return self._case_command(
            ctx,
            case_id,
            "extend_award_period",
            params,
            on,
            lambda case, policy: case.extend_award_period(
                actor=ctx.actor, policy=policy, on=on, days=days, approved_by=approved_by
            ),
        )

    def close_case(
        self, ctx: CommandContext, case_id: UUID, *, on: date, disposition: Disposition
    ) -> Case:
        return self._case_command(
            ctx,
            case_id,
            "close",
            {"on": on, "disposition": disposition},
            on,
            lambda case, policy: case.close(
                actor=ctx.actor, policy=policy, on=on, disposition=disposition
            ),
        )

    # ------------------------------------------------------------------ case reads

    def case_at(self, case_id: UUID, version: int) -> Case:
        try:
            return cast(Case, self.repository.get(case_id, version=version))
        except AggregateNotFoundError:
            raise NotFound(f"no case {case_id}") from None

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

    def register_studio(
        self,
        ctx: CommandContext,
        *,
        name: str,
        region_code: str,
        kind: StudioKind,
        established_on: date,
        mediator_quota: int | None = None,
    ) -> Studio:
        params = {
            "name": name,
            "region_code": region_code,
            "kind": kind,
            "established_on": established_on,
            "mediator_quota": mediator_quota,
        }

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            studio = Studio.register(
                actor=ctx.actor,
                policy=self.policy_on(established_on),
                name=name,
                region_code=region_code,
                kind=kind,
                established_on=established_on,
                mediator_quota=mediator_quota,
            )
            return studio, [studio]

        return cast(Studio, self._run(ctx, "register_studio", None, params, decide))

    def _studio_command(
        self,
        ctx: CommandContext,
        studio_id: UUID,
        command: str,
        params: Mapping[str, Any],
        act: Callable[[Studio], None],
    ) -> Studio:
        load = self._loader(ctx, studio_id, Studio, self.get_studio)

        def decide() -> tuple[Aggregate, Sequence[Aggregate]]:
            studio = load()
            if ctx.expected_version is not None and studio.version != ctx.expected_version:
                raise VersionConflict(f"the studio is at version {studio.version}")
            act(studio)
            return studio, [studio]

        return cast(Studio, self._run(ctx, command, studio_id, params, decide))

    def appoint_mediator(
        self,
        ctx: CommandContext,
        studio_id: UUID,
        *,
        name: str,
        qualification: str,
        appointed_on: date,
    ) -> tuple[Studio, UUID]:
        self._check_date(appointed_on, "appointed_on")
        params = {"name": name, "qualification": qualification, "appointed_on": appointed_on}
        appointed: list[UUID] = []

        def act(studio: Studio) -> None:
            appointed.append(
                studio.appoint_mediator(
                    actor=ctx.actor,
                    policy=self.policy_on(appointed_on),
                    name=name,
                    qualification=qualification,
                    appointed_on=appointed_on,
                )
            )

        studio = self._studio_command(ctx, studio_id, "appoint_mediator", params, act)
        if appointed:
            return studio, appointed[-1]
        # replayed: the newest mediator of that name appointed on that date
        matches = [
            m.mediator_id
            for m in studio.roster.values()
            if m.name == name.strip() and m.appointed_on == appointed_on
        ]
        return studio, matches[-1]

    def retire_mediator(
        self, ctx: CommandContext, studio_id: UUID, mediator_id: UUID, *, retired_on: date
    ) -> Studio:
        self._check_date(retired_on, "retired_on")
        return self._studio_command(
            ctx,
            studio_id,
            "retire_mediator",
            {"mediator_id": mediator_id, "retired_on": retired_on},
            lambda s: s.retire_mediator(
                actor=ctx.actor,
                policy=self.policy_on(retired_on),
                mediator_id=mediator_id,
                retired_on=retired_on,
            ),
        )

    def close_studio(self, ctx: CommandContext, studio_id: UUID, *, closed_on: date) -> Studio:
        self._check_date(closed_on, "closed_on")
        return self._studio_command(
            ctx,
            studio_id,
            "close_studio",
            {"closed_on": closed_on},
            lambda s: s.close(
                actor=ctx.actor, policy=self.policy_on(closed_on), closed_on=closed_on
            ),
        )

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
