"""The users table as the first release created it (``metadata.create_all``).

A store of that release has the table but no version row: this revision creates the table only
where it is missing, so both an empty store and an old one arrive at the same state.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = op.get_context().opts.get("mediation_schema")
    if sa.inspect(op.get_bind()).has_table("users", schema=schema):
        return
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("studio_id", sa.String(36), nullable=True),
        sa.Column("mediator_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    op.drop_table("users", schema=op.get_context().opts.get("mediation_schema"))
