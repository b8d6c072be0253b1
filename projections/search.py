"""The ``search`` view (``rm_search``): the terms a case is found by, and the query.

One row per (case, part, term). A *part* is where a term comes from: ``reg`` / ``fil`` (the
registration number and the 案号: the whole number and its sequence part), ``a0``, ``a1``, …
(each applicant: every prefix of the name, the resident ID number), ``r0``, … (each
respondent: name prefixes, credit code) and ``sid`` (the eight characters of the id that
lists showed before numbers). Every term is stored as a keyed hash (HMAC-SHA256 under a
key derived from ``MEDIATION_ENCRYPTION_KEY``, ``PersonalKeys.search_term``), never as
text: the table holds no name, ID number or credit code. A term of an applicant carries
the person's key subject, so that ``forget`` can drop the terms of an erased person (and a
rebuild, which can no longer open their sealed fields, never writes them).

A search (``terms_of``) turns the text typed into the few terms it could be, hashes them
and looks them up through the ``(term, case_id)`` index; ``projections.worklists`` joins
the hits with ``rm_cases`` for the jurisdiction, the filters and the cursor.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Protocol

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    delete,
    select,
)

from mediation import personal
from mediation.case import Case
from projections.decode import Ev, EventTypes, decode, plain
from projections.sql import insert_many
from projections.views import Fault, Positioned, Unpartitioned

NAME_PREFIXES = 16  # a name is found by each of its first 16 prefixes
_OPEN, _CLOSE = "〔([【［（", "〕)]】］）"
_SPACES = re.compile(r"\s+")
_SEQUENCE = re.compile(r"^[0-9]{1,7}$")
_SHORT_ID = re.compile(r"^[0-9a-f]{8}$")


class Hasher(Protocol):
    """Keyed hashes of search terms (``mediation.keystore.PersonalKeys``)."""

    def search_term(self, term: str) -> str: ...

    def reveal(self, data: Mapping[str, str]) -> dict[str, str]: ...

    def ring(self, parties: Iterable[Mapping[str, Any]]) -> Revealer:
        """The keys of these parties read together (one statement for a batch)."""
        ...


class Revealer(Protocol):
    def reveal(self, data: Mapping[str, str]) -> dict[str, str]: ...


def parties(d: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Every applicant and respondent a ``Received`` event records (v1: one of each)."""
    return list(d.get("applicants") or [d["applicant"]]), list(
        d.get("respondents") or [d["respondent"]]
    )


def normal(text: str) -> str:
    """The form a term is stored and searched in: NFKC, no outer or repeated spaces,
    case-folded, brackets of a number written as 〔〕 whichever the person typed."""
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()
    return folded.translate(str.maketrans(_OPEN + _CLOSE, "〔" * 6 + "〕" * 6))


def name_terms(name: str) -> list[str]:
    n = normal(name)
    return [f"name:{n[:i]}" for i in range(1, min(len(n), NAME_PREFIXES) + 1)]


def number_terms(number: str, sequence: int) -> list[str]:
    return [f"number:{normal(number).replace(' ', '')}", f"seq:{sequence}"]


def terms_of(query: str) -> list[str]:
    """The terms the text typed could be (a name prefix, a number or its sequence part, an
    ID number, a credit code, a short id); the query matches a case with any of them."""
    q = normal(query)
    if not q:
        return []
    terms = [*name_terms(q)[-1:]]
    compact = q.replace(" ", "")
    terms.append(f"number:{compact}")
    if _SEQUENCE.match(compact):
        terms.append(f"seq:{int(compact)}")
    if len(compact) == 18:
        terms += [f"id:{compact}", f"credit:{compact}"]
    if _SHORT_ID.match(compact):
        terms.append(f"short:{compact}")
    return terms


@cache
def search_tables(suffix: str = "") -> dict[str, Table]:
    """``rm_search``: the hashed terms, looked up by the unique index's leading ``term``."""
    return {
        "search": Table(
            f"rm_search{suffix}",
            MetaData(),
            Column("term", String(64), nullable=False),  # hex HMAC-SHA256
            Column("case_id", String(36), nullable=False),
            Column("part", String(8), nullable=False),
            Column("subject", String(32)),  # the person's key subject (applicants)
            # the one index: a query looks terms up; nothing reads by case or subject
            # except ``forget`` (a rare batch: it scans). A unique index, not a primary
            # key, so that a rebuild builds it once after its load (sorted, in one pass)
            # instead of maintaining it row by row under random hashed terms: that was
            # half the search view's rebuild (docs/performance.md, "Rebuild")
            Index(f"ux_rm_search{suffix}", "term", "case_id", "part", unique=True),
        )
    }


class SearchView(Unpartitioned):
    name = "search"

    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self.types = EventTypes(Case.Received, Case.Numbered)
        self.topics = self.types.topics

    def tables(self, suffix: str = "") -> dict[str, Table]:
        return search_tables(suffix)

    def decode(self, notification: Notification, mapper: Mapper[Any]) -> Ev:
        return decode(notification, mapper, plain(mapper), self.types)

    def rows(self, ev: Ev, keys: Revealer | None = None) -> list[dict[str, Any]]:
        """The index rows an event adds (derived from the event and the key table alone;
        ``keys``: the batch's keys, read together)."""
        case_id, d = ev.originator_id, ev.d
        opener = keys if keys is not None else self.hasher
        found: dict[tuple[str, str], str | None] = {}

        def add(part: str, terms: Iterable[str], subject: str | None = None) -> None:
            for term in terms:
                found.setdefault((part, term), subject)

        if ev.type is Case.Received:
            applicants, respondents = parties(d)
            for i, sealed in enumerate(applicants):
                subject = personal.subjects_in(sealed)
                shown = opener.reveal({k: str(v) for k, v in sealed.items() if v})
                if personal.ERASED in (shown.get("name"), shown.get("id_number")):
                    continue  # the person was erased: nothing of them is indexed
                who = min(subject) if subject else None
                add(f"a{i}", name_terms(shown.get("name", "")), who)
                if shown.get("id_number"):
                    add(f"a{i}", [f"id:{normal(shown['id_number'])}"], who)
            for i, party in enumerate(respondents):
                add(f"r{i}", name_terms(str(party.get("name", ""))))
                if party.get("credit_code"):
                    add(f"r{i}", [f"credit:{normal(str(party['credit_code']))}"])
            add("sid", [f"short:{case_id[:8]}"])
        elif ev.type is Case.Numbered:
            part = "fil" if d["number_kind"] == "filing" else "reg"
            add(part, number_terms(str(d["assigned"]), int(d["sequence"])))
        return [
            {
                "term": self.hasher.search_term(term),
                "case_id": case_id,
                "part": part,
                "subject": subject,
            }
            for (part, term), subject in found.items()
            if term.split(":", 1)[1]
        ]

    def process(
        self, conn: Connection, suffix: str, events: Sequence[Positioned], fault: Fault | None
    ) -> None:
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        # every applicant's key of the batch in one read (a rebuild: 20,000 cases were
        # 20,000 key reads, each a round trip)
        keys = self.hasher.ring(
            a for _, ev in events if ev.type is Case.Received for a in parties(ev.d)[0]
        )
        for position, ev in events:
            if fault is not None:
                fault(position)
            for row in self.rows(ev, keys):
                rows.setdefault((row["term"], row["case_id"], row["part"]), row)
        insert_many(conn, search_tables(suffix)["search"], list(rows.values()))


def hashed(hasher: Hasher, query: str) -> list[str]:
    """The stored form of the terms a query could be."""
    return [hasher.search_term(t) for t in terms_of(query)]


def forget(engine: Engine, alive: Callable[[str], bool]) -> int:
    """Delete the terms of people whose key is gone (after ``mediation retention --apply``);
    the number of rows deleted."""
    t = search_tables("")["search"]
    with engine.begin() as conn:
        subjects = [s for (s,) in conn.execute(select(t.c.subject).distinct()) if s]
        gone = [s for s in subjects if not alive(s)]
        deleted = 0
        for i in range(0, len(gone), 500):
            result = conn.execute(delete(t).where(t.c.subject.in_(gone[i : i + 500])))
            deleted += result.rowcount or 0
    return deleted
