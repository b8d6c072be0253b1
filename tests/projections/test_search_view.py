"""The search view (``rm_search``): a rebuild gives the rows the catch-up gave, every case
of a driven history is found by its numbers, and an erased person's terms are forgotten."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from projections import worklists
from projections.rebuild import table_rows
from projections.search import forget, hashed, search_tables
from projections.system import System
from tests.projections.history import drive
from tests.support.factories import SteppingClock, new_case


def test_rebuild_equals_catch_up_and_every_case_is_found(
    database_url: str, clock: SteppingClock
) -> None:
    live = System(database_url, clock=clock)
    try:
        case_ids = drive(live.app, clock, random.Random(5), cases=10, days=40)
        caught_up = table_rows(live.engine, search_tables())
        live.runner.rebuild("search", swap=False)
        assert table_rows(live.engine, search_tables("__next")) == caught_up
        for case_id in case_ids:
            case = live.app.get_case(case_id)
            for number in (case.case_number, case.filing_number):
                if number is None:
                    continue
                ids, _ = worklists.list_cases(
                    live.engine,
                    region_prefix="42",
                    today=live.today(),
                    terms=hashed(live.app.personal, number),
                )
                assert ids == [case_id], number
        assert any(live.app.get_case(c).filing_number for c in case_ids)
        assert any(live.app.get_case(c).severed_from for c in case_ids)
    finally:
        live.close()


def test_an_erased_persons_terms_are_forgotten(database_url: str, clock: SteppingClock) -> None:
    live = System(database_url, clock=clock)
    try:
        case = new_case(live.app, received_on=date(2026, 3, 2))
        id_number = live.app.personal.reveal(case.applicant)["id_number"]
        assert id_number.startswith("4201")

        def found() -> list[object]:
            ids, _ = worklists.list_cases(
                live.engine,
                region_prefix="42",
                today=live.today(),
                terms=hashed(live.app.personal, id_number),
            )
            return list(ids)

        assert found() == [case.id]
        rows = live.app.personal.rows()
        live.app.personal.erase(
            rows,
            used_before=datetime(2100, 1, 1, tzinfo=UTC),
            actor="ops",
            retention_years=10,
            cutoff=date(2026, 1, 1),
            cases=1,
        )
        deleted = forget(live.engine, lambda s: live.app.personal.key_of(s) is not None)
        assert deleted > 0 and found() == []
        # a rebuild cannot open the erased fields: it writes none of their terms either
        live.runner.rebuild("search", swap=False)
        assert table_rows(live.engine, search_tables("__next")) == table_rows(
            live.engine, search_tables()
        )
    finally:
        live.close()


def test_a_search_table_of_the_previous_layout_is_rebuilt_at_start(
    database_url: str, clock: SteppingClock
) -> None:
    """``rm_search`` had a primary key before its index became a unique index built after a
    rebuild's load; a store made with the old layout is rebuilt side by side when the read
    models open (never half-migrated), with the same rows, and its cases are still found."""
    import sqlalchemy as sa

    live = System(database_url, clock=clock)
    try:
        case = new_case(live.app, received_on=date(2026, 3, 2))
        id_number = live.app.personal.reveal(case.applicant)["id_number"]
        rows = table_rows(live.engine, search_tables())
        assert rows["search"]
        with live.engine.begin() as conn:  # the layout of the previous main
            conn.execute(sa.text('DROP TABLE "rm_search"'))
            conn.execute(
                sa.text(
                    'CREATE TABLE "rm_search" (term VARCHAR(64) NOT NULL, '
                    "case_id VARCHAR(36) NOT NULL, part VARCHAR(8) NOT NULL, "
                    "subject VARCHAR(32), CONSTRAINT pk_rm_search PRIMARY KEY "
                    "(term, case_id, part))"
                )
            )
            table = search_tables()["search"]
            names = table.c.keys()
            conn.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in rows["search"]])
    finally:
        live.close()
    reopened = System(database_url, clock=clock)
    try:
        found = sa.inspect(reopened.engine)
        assert found.get_pk_constraint("rm_search")["constrained_columns"] == []
        assert "ux_rm_search" in {i["name"] for i in found.get_indexes("rm_search")}
        assert table_rows(reopened.engine, search_tables()) == rows
        ids, _ = worklists.list_cases(
            reopened.engine,
            region_prefix="42",
            today=reopened.today(),
            terms=hashed(reopened.app.personal, id_number),
        )
        assert ids == [case.id]
    finally:
        reopened.close()
