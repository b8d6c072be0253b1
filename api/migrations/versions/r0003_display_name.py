"""The person behind an account: ``users.display_name`` (shown in the page header and the
case timeline instead of the login name; empty for accounts made before it).

Revision ID: r0003
Revises: r0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema: str | None = op.get_context().opts.get("mediation_schema")
    op.add_column(
        "users",
        sa.Column("display_name", sa.String(64), nullable=False, server_default=""),
        schema=schema,
    )


def downgrade() -> None:
    schema: str | None = op.get_context().opts.get("mediation_schema")
    op.drop_column("users", "display_name", schema=schema)
