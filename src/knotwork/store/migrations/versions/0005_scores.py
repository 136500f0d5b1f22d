"""Imported results of batch jobs (``knotwork import scores``): authority scores and group
labels per node, and for each kind of result the run that made it (engine, ``as_of``, the
store state it was computed from, so that a stale import is detected).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_runs",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("as_of", sa.BigInteger, nullable=False),
        sa.Column("explicit", sa.Integer, nullable=False),
        sa.Column("half_life_days", sa.Float, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("computed", sa.BigInteger, nullable=False),
        sa.Column("imported", sa.BigInteger, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("nodes", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "scores",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("score", sa.Float),
        sa.Column("label", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("scores")
    op.drop_table("score_runs")
