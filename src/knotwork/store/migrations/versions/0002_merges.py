"""Identity merges (who was folded into whom, on what evidence, what moved) and rejections.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kept", sa.BigInteger, nullable=False),
        sa.Column("merged", sa.BigInteger, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("moved", sa.Text, nullable=False, server_default="{}"),
        sa.Column("split", sa.BigInteger),
    )
    op.create_index("ix_merges_kept", "merges", ["kept"])
    op.create_index("ix_merges_merged", "merges", ["merged"])
    op.create_table(
        "separate",
        sa.Column("a", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("b", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("separate")
    op.drop_table("merges")
