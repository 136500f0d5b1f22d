"""Alembic migrations of the store; run by :func:`knotwork.store.engine.upgrade`."""
