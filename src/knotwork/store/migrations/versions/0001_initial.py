"""The initial store: nodes, links, aliases, texts, sources.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("time", sa.BigInteger),
        sa.Column("flags", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attrs", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_nodes_kind_key", "nodes", ["kind", "key"])
    op.create_table(
        "links",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("src", sa.BigInteger, nullable=False),
        sa.Column("dst", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("time", sa.BigInteger),
        sa.Column("weight", sa.Float, nullable=False, server_default="1"),
        sa.Column("flags", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("attrs", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_links_src", "links", ["src"])
    op.create_index("ix_links_dst", "links", ["dst"])
    op.create_table(
        "aliases",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("person", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_aliases_person", "aliases", ["person"])
    op.create_index("ix_aliases_kind_value", "aliases", ["kind", "value"])
    op.create_table(
        "texts",
        sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("cursor", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("sources", "texts", "aliases", "links", "nodes"):
        op.drop_table(table)
