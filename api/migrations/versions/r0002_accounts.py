"""Accounts that can be withdrawn, and their history.

- ``users`` gains ``credential_version`` (in every token; raised by every change, so older
  tokens stop working), ``disabled_at`` and ``updated_at``.
- ``account_changes``: one row per change (created, role/region/studio/mediator changed,
  password changed, disabled, enabled), with who did it and when. Append-only: triggers
  refuse ``UPDATE``, ``DELETE`` (and on PostgreSQL ``TRUNCATE``).
- ``login_attempts``: every login (success, failure, throttled) with username and client.
  Triggers refuse ``UPDATE``; old rows may be deleted for retention.

Users that existed before get a ``recorded`` row (by ``migration``), so each account's history
starts somewhere.

Revision ID: r0002
Revises: r0001
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def _name(schema: str | None, name: str) -> str:
    return f'"{schema}"."{name}"' if schema else f'"{name}"'


def upgrade() -> None:
    schema: str | None = op.get_context().opts.get("mediation_schema")
    bind = op.get_bind()
    op.add_column(
        "users",
        sa.Column("credential_version", sa.Integer(), nullable=False, server_default="1"),
        schema=schema,
    )
    op.add_column(
        "users", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True), schema=schema
    )
    op.add_column(
        "users", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True), schema=schema
    )
    changes = op.create_table(
        "account_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default="{}"),
        schema=schema,
    )
    op.create_index("account_changes_by_user", "account_changes", ["username", "id"], schema=schema)
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False, server_default=""),
        schema=schema,
    )
    op.create_index(
        "login_attempts_by_user", "login_attempts", ["username", "client", "outcome"], schema=schema
    )

    users = sa.table(
        "users",
        sa.column("username", sa.String),
        sa.column("role", sa.String),
        sa.column("region_code", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
    now = datetime.now(UTC)
    rows = [
        {
            "at": now,
            "username": r.username,
            "change": "recorded",
            "actor": "migration",
            "credential_version": 1,
            "detail": json.dumps(
                {
                    "role": r.role,
                    "region_code": r.region_code,
                    "created_at": r.created_at.isoformat() if r.created_at else None,
                },
                sort_keys=True,
            ),
        }
        for r in bind.execute(sa.select(users).order_by(users.c.username))
    ]
    if rows:
        op.bulk_insert(changes, rows)

    if bind.dialect.name == "postgresql":
        guard = _name(schema, "accounts_append_only")
        op.execute(
            f"CREATE OR REPLACE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% on % is refused: the table is append-only', "
            "TG_OP, TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER account_changes_append_only BEFORE UPDATE OR DELETE "
            f"ON {_name(schema, 'account_changes')} FOR EACH ROW EXECUTE FUNCTION {guard}()"
        )
        op.execute(
            f"CREATE TRIGGER account_changes_no_truncate BEFORE TRUNCATE "
            f"ON {_name(schema, 'account_changes')} FOR EACH STATEMENT EXECUTE FUNCTION {guard}()"
        )
        op.execute(
            f"CREATE TRIGGER login_attempts_append_only BEFORE UPDATE "
            f"ON {_name(schema, 'login_attempts')} FOR EACH ROW EXECUTE FUNCTION {guard}()"
        )
    else:
        for trigger, when in (
            ("account_changes_no_update", "UPDATE ON account_changes"),
            ("account_changes_no_delete", "DELETE ON account_changes"),
            ("login_attempts_no_update", "UPDATE ON login_attempts"),
        ):
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {when} "
                "BEGIN SELECT RAISE(ABORT, 'the table is append-only'); END"
            )


def downgrade() -> None:
    schema: str | None = op.get_context().opts.get("mediation_schema")
    op.drop_table("login_attempts", schema=schema)
    op.drop_table("account_changes", schema=schema)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_name(schema, 'accounts_append_only')}()")
    with op.batch_alter_table("users", schema=schema) as batch:
        batch.drop_column("updated_at")
        batch.drop_column("disabled_at")
        batch.drop_column("credential_version")
