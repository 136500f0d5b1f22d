"""Knotwork: the live social graph of work.

Ingest the traces of work (git history first) into one typed, time-stamped graph, and ask it
what and who matters, who knows about what, and how healthy the network is.

>>> import knotwork
>>> store = knotwork.Store.open("sqlite://")
>>> knotwork.stats(store)["links"]
{}
"""

from __future__ import annotations

from knotwork.config import Settings
from knotwork.errors import (
    ConfigError,
    EmptySourceError,
    InputError,
    KnotworkError,
    NotARepositoryError,
    NotFoundError,
    SourceReadError,
    StoreError,
)
from knotwork.ingest.base import Batch, IngestReport, Source
from knotwork.model import Alias, AliasKind, Flag, Link, LinkKind, Node, NodeKind, Record
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.identity import profile, resolve
from knotwork.store.stats import stats
from knotwork.store.writer import ingest

__version__ = "0.1.0"

__all__ = [
    "Alias",
    "AliasKind",
    "Batch",
    "ConfigError",
    "EmptySourceError",
    "Flag",
    "IngestReport",
    "InputError",
    "KnotworkError",
    "Link",
    "LinkKind",
    "Node",
    "NodeKind",
    "NotARepositoryError",
    "NotFoundError",
    "Record",
    "Settings",
    "Source",
    "SourceReadError",
    "Store",
    "StoreError",
    "digest",
    "ingest",
    "profile",
    "resolve",
    "stats",
]
