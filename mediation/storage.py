"""The PostgreSQL event recorder, with positions that commit in order.

The library's insert function (``POSTGRES_ENABLE_DB_FUNCTIONS``) takes no table lock:
two concurrent commands can be given positions 101 and 102 and commit 102 first. A
reader that looks at the log in between sees 102 as the head with 101 missing, moves its
tracked position past 101 and never reads it (docs/operations.md says how it was found).
The library's other insert path takes an ``EXCLUSIVE`` table lock for exactly this
reason, but with a slower insert.

This recorder keeps the function (one round trip) and takes the same lock inside it,
before positions are drawn, so positions become visible in order. Commits are already
serialised by the function's ``NOTIFY`` (PostgreSQL orders notifying commits), so the
lock adds no wait of its own. ``CREATE OR REPLACE`` runs at every start, so an
existing store gets the locking function the next time it is opened.

Several processes opening the same store at once (API workers, projection workers, the
importer) would race those ``CREATE OR REPLACE`` and ``CREATE … IF NOT EXISTS``
statements; PostgreSQL refuses the loser with "tuple concurrently updated" or a
duplicate-key error on its catalogue. ``create_table`` therefore runs every statement in
one transaction behind a transaction-scoped advisory lock named after the table.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.errors import DuplicateObject
from psycopg.sql import SQL, Identifier, Literal

from mediation.append_only import owned_by_another_role, postgres_statements

TOPIC = "mediation.storage:OrderedPostgresRecorder"


class OrderedPostgresRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION "
            "{schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint "
            "LANGUAGE plpgsql "
            # runs as the table's owner: the application's role needs no UPDATE, DELETE or
            # TRUNCATE grant for the table lock (docs/operations.md, the application's role)
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
            "AS "
            "$BODY$"
            "BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "END;"
            "$BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        index = self.create_insert_function_statement_index
        self.sql_create_statements[index] = self.sql_create_pg_function_insert_events
        # UPDATE, DELETE and TRUNCATE refused by triggers (mediation/append_only.py)
        self.sql_create_statements.extend(
            postgres_statements(self.datastore.schema, self.events_table_name)
        )

    def create_table(self) -> None:
        lock_name = f"mediation.create:{self.datastore.schema}.{self.events_table_name}"
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(Literal(lock_name))
            )
            if owned_by_another_role(curs, self.datastore.schema, self.events_table_name):
                statements = []  # set up by its owner; this role may only use it
            else:
                statements = self.sql_create_statements
            for statement in statements:
                if "CREATE TYPE" in statement.as_string():
                    # no IF NOT EXISTS for types: try under a savepoint
                    try:
                        with curs.connection.transaction():
                            curs.execute(statement, prepare=False)
                    except DuplicateObject:
                        pass
            if statements:
                self._create_table(curs)
        self.datastore.register_type_adapters()
