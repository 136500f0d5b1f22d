"""The sets of people the API released aggregates about (:mod:`knotwork.services.privacy_store`):
one row per released set in ``released``, with the kind of figure, the keyed hashes of its
members' ids (never raw ids or aliases), how many people it described and when, so that every
worker of a server, and every later run, refuses a set that would difference one of them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "released",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("members", sa.Text, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("origin", sa.Integer),
        sqlite_autoincrement=True,  # ids never reused: readers fetch only rows newer than seen
    )
    op.create_index("ix_released_kind_id", "released", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_released_kind_id", "released")
    op.drop_table("released")
