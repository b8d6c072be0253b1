"""Checked-in stored events of every class and version decode with the current code."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from mediation.application import MediationApplication
from mediation.case import Case
from mediation.organisation import Studio

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_every_event_class_has_a_v1_fixture_and_decodes() -> None:
    app = MediationApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    records = json.loads((FIXTURES / "stored_events_v1.json").read_text(encoding="utf-8"))
    topics = {r["topic"] for r in records}
    expected = {
        cls.TOPIC
        for agg in (Case, Studio)
        for cls in vars(agg).values()
        if isinstance(cls, type)
        and hasattr(cls, "TOPIC")
        and cls.__name__ not in ("Event", "Created")
    }
    assert expected <= topics, f"no stored fixture for {sorted(expected - topics)}"
    for record in records:
        event = app.mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(record["originator_id"]),
                originator_version=record["originator_version"],
                topic=record["topic"],
                state=record["state"].encode(),
            )
        )
        assert record["topic"] == type(event).TOPIC  # type: ignore[attr-defined]
        assert event.originator_version == record["originator_version"]
        if record["topic"].startswith("mediation.case."):
            assert event.actor and event.on and event.policy_version  # type: ignore[attr-defined]
            assert len(event.chain) == 64  # type: ignore[attr-defined]
