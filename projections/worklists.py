"""Work lists: cases in a jurisdiction, the clerk's queue and a mediator's queue, each
paged with a stable cursor."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, and_, or_, select

from mediation.errors import ValidationFailed
from mediation.values import Status
from projections.common import prefix_of, starts_with
from projections.search import search_tables
from projections.sql import case_tables

Page = tuple[list[UUID], str | None]  # the case ids, and the cursor of the next page


def _encode_cursor(kind: str, values: list[str]) -> str:
    raw = json.dumps({"k": kind, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(data, dict) or data.get("k") != kind:
            raise ValueError("wrong kind")
        values = data["v"]
        if not (isinstance(values, list) and len(values) == 2):
            raise ValueError("malformed")
        date.fromisoformat(values[0])
        UUID(values[1])
        return [str(v) for v in values]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("the cursor is not valid", field="cursor") from None


def _limit(limit: int) -> int:
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit is 1 to 500", field="limit")
    return limit


def _page(
    engine: Engine,
    kind: str,
    where: list[ColumnElement[bool]],
    by: Any,
    *,
    newest_first: bool,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of cases ordered by the date column ``by``, then by id."""
    c = case_tables()["cases"].c
    if cursor:
        value, case_id = _decode_cursor(kind, cursor)
        on = date.fromisoformat(value)
        if newest_first:
            where = [*where, or_(by < on, and_(by == on, c.case_id < case_id))]
        else:
            where = [*where, or_(by > on, and_(by == on, c.case_id > case_id))]
    order = (by.desc(), c.case_id.desc()) if newest_first else (by, c.case_id)
    query = select(c.case_id, by).where(and_(*where)).order_by(*order).limit(limit + 1)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    page = rows[:limit]
    next_cursor = (
        _encode_cursor(kind, [page[-1][1].isoformat(), page[-1][0]]) if len(rows) > limit else None
    )
    return [UUID(r[0]) for r in page], next_cursor


def list_cases(
    engine: Engine,
    *,
    region_prefix: str,
    status: str | None = None,
    studio_id: UUID | None = None,
    mediator_id: UUID | None = None,
    overdue: bool | None = None,
    today: date,
    limit: int = 50,
    cursor: str | None = None,
    terms: Sequence[str] | None = None,
) -> Page:
    """Cases in a jurisdiction, newest received first (then by id), with a stable cursor.

    ``overdue``: only the cases whose earliest open deadline passed before ``today``
    (``True``) or did not (``False``). ``terms``: only the cases found by one of these
    hashed search terms (``projections.search.hashed``; an empty list finds nothing).
    """
    prefix = prefix_of(region_prefix)
    _limit(limit)
    c = case_tables()["cases"].c
    where: list[ColumnElement[bool]] = [starts_with(c.region_code, prefix)]
    if status is not None:
        if status not in {s.value for s in Status}:
            raise ValidationFailed(f"unknown status {status!r}", field="status")
        where.append(c.status == status)
    if studio_id is not None:
        where.append(c.studio_id == str(studio_id))
    if mediator_id is not None:
        where.append(c.mediator_id == str(mediator_id))
    if overdue is True:
        where.append(c.sort_due < today)
    elif overdue is False:
        where.append(c.sort_due >= today)
    if terms is not None:
        where.append(_found_by(engine, terms))
    return _page(
        engine, "cases", where, c.received_on, newest_first=True, limit=limit, cursor=cursor
    )


# a search naming at most this many cases filters the list by their ids; a broader one (a
# common one-character name prefix) by the index as a subquery
SEARCH_IDS = 1000


def _found_by(engine: Engine, terms: Sequence[str]) -> ColumnElement[bool]:
    """The cases one of the hashed ``terms`` finds (``projections.search``). The index is
    read first on its own (a lookup by its leading column), so that the list's query
    never depends on the planner guessing how selective the terms are."""
    c = case_tables()["cases"].c
    found = search_tables()["search"].c
    lookup = select(found.case_id).where(found.term.in_(list(terms)))
    with engine.connect() as conn:
        ids = list(conn.execute(lookup.distinct().limit(SEARCH_IDS + 1)).scalars())
    if len(ids) <= SEARCH_IDS:
        return c.case_id.in_(ids)
    return c.case_id.in_(lookup)


def clerk_queue(
    engine: Engine,
    *,
    region_prefix: str,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Received cases (acceptance deadlines) and cases back from mediation, earliest due
    first: every overdue case comes ahead of the others."""
    prefix = prefix_of(region_prefix)
    _limit(limit)
    c = case_tables()["cases"].c
    where = [
        starts_with(c.region_code, prefix),
        c.status.in_((Status.RECEIVED.value, Status.MEDIATION_FAILED.value)),
    ]
    return _page(engine, "clerk", where, c.sort_due, newest_first=False, limit=limit, cursor=cursor)


def mediator_queue(
    engine: Engine,
    *,
    mediator_id: UUID,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """A mediator's open cases (windows, performance dates), overdue first then earliest due."""
    _limit(limit)
    c = case_tables()["cases"].c
    where = [
        c.mediator_id == str(mediator_id),
        c.status.in_((Status.IN_MEDIATION.value, Status.AGREEMENT_SIGNED.value)),
    ]
    return _page(
        engine, "mediator", where, c.sort_due, newest_first=False, limit=limit, cursor=cursor
    )
