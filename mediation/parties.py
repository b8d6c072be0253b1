"""Every party of a case: applicants, respondents, agents, representatives (brief §8).

A case has one or more applicants (workers) and one or more respondents (employers).
Each party may have an address for service and an agent (委托代理人: lawyer, union,
relative, other); a respondent may name its legal representative (法定代表人). Claims
belong to the case, so every applicant shares each of its claim categories: a case with
:data:`COLLECTIVE_MIN` or more applicants is a **collective dispute** (集体劳动争议,
LDMAL art. 7) and names 1 to :data:`MAX_REPRESENTATIVES` representatives among its
applicants, by resident ID number (contract v1.1).

What an event stores per party is a flat dict of strings (agent as ``agent_name`` and
``agent_kind``; keys present only when given), the personal values sealed per person by
``mediation.personal``; the representatives as positions in the applicants' list (never
an ID number in clear, so that erasure leaves nothing behind).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from mediation import identifiers, personal, rules
from mediation.errors import RepresentativesInvalid, RepresentativesRequired, ValidationFailed
from mediation.labels import message
from mediation.values import AgentInput, AgentKind, ApplicantInput, RespondentInput, WorkerCategory

_WHO = {"applicants": "申请人", "respondents": "被申请人"}
COLLECTIVE_MIN = 10  # LDMAL art. 7: ten or more workers with a common claim
MAX_REPRESENTATIVES = 5  # contract v1.1 (Rules art. 7 says three to five: see docs/domain.md)
MAX_PARTIES = 500  # per side, per case: a request bound, not a rule of law


@dataclass(frozen=True)
class Parties:
    """The validated parties of a new case (plain values; sealed by :meth:`sealed`)."""

    applicants: list[dict[str, str]]
    respondents: list[dict[str, str]]
    representatives: list[int]  # positions in ``applicants``
    collective: bool

    def sealed(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The applicants and respondents with their personal fields sealed per person."""
        return (
            [personal.seal_applicant(a) for a in self.applicants],
            [personal.seal_respondent(r) for r in self.respondents],
        )


def _prefix(side: str, i: int, count: int) -> str:
    """The name of a party's fields in refusals: ``applicant`` alone, ``applicants.2`` else."""
    return side if count == 1 else f"{side}s.{i}"


def _agent(agent: AgentInput | None, field: str, out: dict[str, str]) -> None:
    if agent is None:
        return
    rules.require_text(agent.name, f"{field}.name", 100)
    out["agent_name"] = agent.name.strip()
    out["agent_kind"] = AgentKind(agent.kind).value


def _optional_text(value: str, field: str, limit: int) -> str:
    if not value.strip():
        return ""
    rules.require_text(value, field, limit)
    return value.strip()


def validated_applicant(
    applicant: ApplicantInput, field: str, on: date, *, recorded: bool = False
) -> dict[str, str]:
    out = rules.validated_applicant(applicant, field, recorded=recorded)
    identifiers.require_born_by(out["id_number"], on, f"{field}.id_number")
    address = _optional_text(applicant.address, f"{field}.address", 200)
    if address:
        out["address"] = address
    _agent(applicant.agent, f"{field}.agent", out)
    return out


def validated_respondent(respondent: RespondentInput, field: str) -> dict[str, str]:
    out = rules.validated_respondent(respondent, field)
    for name, limit in (("address", 200), ("legal_representative", 100)):
        value = _optional_text(getattr(respondent, name), f"{field}.{name}", limit)
        if value:
            out[name] = value
    _agent(respondent.agent, f"{field}.agent", out)
    return out


def validated(
    applicants: Sequence[ApplicantInput],
    respondents: Sequence[RespondentInput],
    representatives: Sequence[str],
    received_on: date,
    *,
    recorded: bool = False,
) -> Parties:
    """The parties of a new case, or the first refusal (validation, then LDMAL art. 7).

    ``recorded``: the parties were checked when first recorded (a severance, an import):
    phones are held to the rule of their day (``rules.validated_phone``)."""
    for side, given in (("applicants", applicants), ("respondents", respondents)):
        if not given:
            raise ValidationFailed(message("party_required", who=_WHO[side]), field=side)
        if len(given) > MAX_PARTIES:
            raise ValidationFailed(
                message("party_too_many", who=_WHO[side], limit=MAX_PARTIES), field=side
            )
    plain_applicants = [
        validated_applicant(
            a, _prefix("applicant", i, len(applicants)), received_on, recorded=recorded
        )
        for i, a in enumerate(applicants)
    ]
    plain_respondents = [
        validated_respondent(r, _prefix("respondent", i, len(respondents)))
        for i, r in enumerate(respondents)
    ]
    _require_distinct(plain_applicants, "applicant", "id_number", "party_same_id")
    _require_distinct(plain_respondents, "respondent", "credit_code", "party_same_credit")
    collective = is_collective(len(plain_applicants))
    chosen = _representatives(plain_applicants, representatives, collective)
    return Parties(plain_applicants, plain_respondents, chosen, collective)


def is_collective(applicants: int) -> bool:
    """Ten or more applicants: they share every claim category of the case (LDMAL art. 7)."""
    return applicants >= COLLECTIVE_MIN


def _require_distinct(parties: list[dict[str, str]], side: str, key: str, said: str) -> None:
    seen: dict[str, int] = {}
    for i, party in enumerate(parties):
        value = party[key]
        if value in seen:
            raise ValidationFailed(
                message(said, a=seen[value] + 1, b=i + 1),
                field=f"{_prefix(side, i, len(parties))}.{key}",
            )
        seen[value] = i


def _representatives(
    applicants: list[dict[str, str]], given: Sequence[str], collective: bool
) -> list[int]:
    if not given:
        if collective:
            raise RepresentativesRequired(message("representatives_required", n=len(applicants)))
        return []
    if not collective:
        raise RepresentativesInvalid(message("representatives_not_collective"))
    if len(given) > MAX_REPRESENTATIVES:
        raise RepresentativesInvalid(message("representatives_too_many"))
    position = {a["id_number"]: i for i, a in enumerate(applicants)}
    chosen: list[int] = []
    for j, raw in enumerate(given):
        try:
            id_number = identifiers.validate_resident_id(raw)
        except ValueError:
            id_number = raw
        if id_number not in position:
            raise RepresentativesInvalid(message("representative_unknown", n=j + 1))
        if position[id_number] in chosen:
            raise RepresentativesInvalid(message("representative_twice", n=j + 1))
        chosen.append(position[id_number])
    return chosen


# --- reading what an event stored -----------------------------------------------------------


def applicant_input(data: Mapping[str, str]) -> ApplicantInput:
    """A stored (revealed) applicant as the input that records it again (a severance)."""
    return ApplicantInput(
        data["name"],
        data["id_number"],
        data["phone"],
        WorkerCategory(data["worker_category"]),
        data.get("address", ""),
        _agent_of(data),
    )


def respondent_input(data: Mapping[str, str]) -> RespondentInput:
    return RespondentInput(
        data["name"],
        data["credit_code"],
        data.get("address", ""),
        _agent_of(data),
        data.get("legal_representative", ""),
    )


def _agent_of(data: Mapping[str, str]) -> AgentInput | None:
    if "agent_kind" not in data:
        return None
    return AgentInput(data.get("agent_name", ""), AgentKind(data["agent_kind"]))


def shown(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored party as the views show it: the agent as ``{"name", "kind"}`` (or None)."""
    out = {k: v for k, v in data.items() if k not in ("agent_name", "agent_kind")}
    kind = data.get("agent_kind")
    out["agent"] = {"name": data.get("agent_name", ""), "kind": kind} if kind else None
    return out
