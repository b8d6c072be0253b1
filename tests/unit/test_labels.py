"""The glossary labels every code the domain has, and nothing else."""

from __future__ import annotations

from enum import StrEnum

import pytest

from mediation import labels
from mediation.commands import CASE_COMMANDS
from mediation.numbering import NumberKind
from mediation.organisation import QUALIFICATIONS
from mediation.values import (
    AgentKind,
    ClaimCategory,
    Disposition,
    Party,
    Role,
    Route,
    Status,
    StudioKind,
    SuccessBranch,
    WorkerCategory,
)
from tests.unit.test_stored_format import event_classes


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (labels.STATUS, Status),
        (labels.ROUTE, Route),
        (labels.CLAIM, ClaimCategory),
        (labels.WORKER, WorkerCategory),
        (labels.DISPOSITION, Disposition),
        (labels.PARTY, Party),
        (labels.STUDIO_KIND, StudioKind),
        (labels.ROLE, Role),
        (labels.OUTCOME, SuccessBranch),
        (labels.NUMBER_KIND, NumberKind),
        (labels.AGENT_KIND, AgentKind),
    ],
)
def test_every_code_has_a_label(table: dict[str, str], codes: type[StrEnum]) -> None:
    assert set(table) == {c.value for c in codes}
    assert all(table.values())


def test_qualifications_events_and_commands_have_labels() -> None:
    assert set(labels.QUALIFICATION) == set(QUALIFICATIONS)
    case_events = {q.split(".")[1] for q in event_classes() if q.startswith("Case.")}
    assert set(labels.EVENT) == case_events - {"Created"}
    assert set(labels.COMMAND) == {c.command_name for c in CASE_COMMANDS}


def test_label_falls_back_to_the_code() -> None:
    assert labels.label(labels.CLAIM, ClaimCategory.CONTRACT).startswith("劳动合同")
    assert labels.label(labels.CLAIM, "unknown") == "unknown"
    assert labels.label(labels.CLAIM, None) == "—"


def test_every_field_a_case_event_records_has_a_timeline_label() -> None:
    """The case page's timeline shows each recorded field by its Chinese name: a new event
    field without one would show its code to a clerk."""
    from typing import get_type_hints

    from mediation.case import Case

    shown_elsewhere = {"actor", "actor_role", "on", "chain", "policy_version"}
    library = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    library |= {"originator_id_type", "TOPIC", "class_version"}
    missing: set[str] = set()
    for name, cls in vars(Case).items():
        if not isinstance(cls, type) or not issubclass(cls, Case.Event) or name == "Event":
            continue
        for field in get_type_hints(cls):
            if field not in shown_elsewhere | library and field not in labels.FIELD:
                missing.add(f"{name}.{field}")
    assert not missing, sorted(missing)
