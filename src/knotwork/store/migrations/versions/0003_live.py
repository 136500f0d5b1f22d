"""Live views: a change sequence on ``nodes`` and ``links`` (what changed since a view was built).

A view remembers the highest sequence number it has read (its *high-water mark*) and later
reads only the rows above it. Appending a row gives it a new, higher number; a trigger also
moves a row to a new number when a column that views read changes (a re-pointed link, a node
that became a bot), so that a view can tell an update from an append and rebuild in full.

* SQLite: the implicit ``rowid`` is the sequence (new rows get ``max(rowid) + 1``); the triggers
  move an updated row to ``max(rowid) + 1``.
* PostgreSQL: a ``seq BIGSERIAL`` column (indexed), filled by its sequence on insert; the
  triggers take a fresh number on update.

The column is not part of :mod:`knotwork.store.schema`: writers never set it and
:func:`knotwork.store.digest.digest` never reads it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The columns of each table that views read: changing one of them moves the row.
WATCHED = {
    "nodes": ("id", "kind", "key", "flags"),
    "links": ("src", "dst", "kind", "time", "weight", "flags"),
}


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def upgrade() -> None:
    bind = op.get_bind()
    for table, columns in WATCHED.items():
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} ADD COLUMN seq BIGSERIAL")
            op.execute(f"CREATE INDEX ix_{table}_seq ON {table} (seq)")
            op.execute(
                f"CREATE FUNCTION knotwork_{table}_seq() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN NEW.seq := nextval('{table}_seq_seq'); RETURN NEW; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_live BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
                f"EXECUTE FUNCTION knotwork_{table}_seq()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_live AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN {_changed(columns, 'IS NOT')} BEGIN "
                f"UPDATE {table} SET rowid = (SELECT max(rowid) FROM {table}) + 1 "
                f"WHERE rowid = NEW.rowid; END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    for table in WATCHED:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {table}_live ON {table}")
            op.execute(f"DROP FUNCTION knotwork_{table}_seq()")
            op.execute(f"DROP INDEX ix_{table}_seq")
            op.execute(f"ALTER TABLE {table} DROP COLUMN seq")
        else:
            op.execute(f"DROP TRIGGER {table}_live")
