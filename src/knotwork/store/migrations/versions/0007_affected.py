"""Who each proposal affected, kept with the decision (:mod:`knotwork.services.decisions_affected`):
one row per proposal in ``affected_runs`` (when the snapshot was taken and at which stage,
``made`` or ``closed``), and one row per affected person in ``affected`` with the strength and
the evidence, so that participation reads them instead of recomputing every proposal.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "affected_runs",
        sa.Column("proposal", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
    )
    op.create_table(
        "affected",
        sa.Column("proposal", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("person", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("strength", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False, server_default="[]"),
    )
    op.create_index("ix_affected_person", "affected", ["person"])


def downgrade() -> None:
    op.drop_index("ix_affected_person", "affected")
    op.drop_table("affected")
    op.drop_table("affected_runs")
