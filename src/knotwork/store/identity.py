"""Identity: resolve an alias (email, name, handle) to one person, describe a person, and
suggest people who may be one (weak evidence: never merged automatically; see
:mod:`knotwork.store.merge` for merges).

>>> normalise_name("  Jösé   DUPONT ")
'jose dupont'
>>> sorted(local_forms("Jean.Dupont+lists@example.org"))
['dupont jean', 'jean dupont', 'jeandupont']

>>> from knotwork.store.engine import Store
>>> resolve(Store.open("sqlite://"), "ada@example.org")
Traceback (most recent call last):
...
knotwork.errors.NotFoundError: ada@example.org: no person has this alias
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import threading
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, distinct, func, or_, select, text

from knotwork.errors import InputError, NotFoundError
from knotwork.model import Flag, LinkKind, NodeKind
from knotwork.store import schema
from knotwork.store.engine import Store
from knotwork.store.priority import lower_priority

log = logging.getLogger(__name__)

#: Link kinds from a person to the work item they took part in.
PERSON_TO_ITEM = tuple(
    k.value
    for k in (
        LinkKind.AUTHORED,
        LinkKind.REVIEWS,
        LinkKind.ACKS,
        LinkKind.TESTS,
        LinkKind.REPORTS,
        LinkKind.SUGGESTS,
        LinkKind.HANDLES,
    )
)


def _candidates(connection: Connection, text: str) -> list[int]:
    aliases, nodes = schema.aliases, schema.nodes
    stripped = text.strip()
    lowered = stripped.lower()
    # SQLite's lower() folds ASCII letters only: the exact spelling must match as well
    same = or_(func.lower(aliases.c.value) == lowered, aliases.c.value == stripped)
    queries = (
        select(aliases.c.person).where(aliases.c.kind == "email", same).distinct(),
        select(nodes.c.id).where(nodes.c.kind == NodeKind.PERSON.value, nodes.c.key == lowered),
        select(aliases.c.person).where(aliases.c.kind.in_(("name", "handle")), same).distinct(),
    )
    for query in queries:
        found = sorted(row[0] for row in connection.execute(query))
        if found:
            return found
    return []


def active_merges(connection: Connection) -> dict[int, int]:
    """Merges in force: merged person id -> the person id it was folded into."""
    merges = schema.merges
    query = select(merges.c.merged, merges.c.kept).where(merges.c.split.is_(None))
    return {int(m): int(k) for m, k in connection.execute(query)}


def follow(merges: dict[int, int], person: int) -> int:
    """The person that ``person`` ends up as, following merges (a chain is followed to its end).

    >>> follow({3: 2, 2: 1}, 3), follow({3: 2}, 5)
    (1, 5)
    """
    seen = {person}
    while person in merges and merges[person] not in seen:
        person = merges[person]
        seen.add(person)
    return person


def candidates(connection: Connection, text: str, *, merged: bool = True) -> list[int]:
    """The people ``text`` may name (merges followed unless ``merged`` is false), sorted."""
    found = _candidates(connection, text)
    if not merged or not found:
        return found
    done = active_merges(connection)
    return sorted({follow(done, person) for person in found})


def resolve(store: Store, alias: str) -> int:
    """The id of the one person known by ``alias`` (email, person key, name or handle).

    A person merged into another (:func:`knotwork.store.merge.merge`) resolves to the other.
    """
    with store.connect() as connection:
        found = candidates(connection, alias)
        if not found:
            raise NotFoundError("no person has this alias", place=alias)
        if len(found) > 1:
            keys = connection.execute(
                select(schema.nodes.c.key).where(schema.nodes.c.id.in_(found))
            ).scalars()
            raise InputError(
                "this alias names several people: " + ", ".join(sorted(keys)), place=alias
            )
        return found[0]


def _top(connection: Connection, query: Any, limit: int) -> list[dict[str, Any]]:
    nodes = schema.nodes
    counted = query.order_by(query.selected_columns[1].desc(), query.selected_columns[0])
    rows = connection.execute(counted.limit(limit)).all()
    names = dict(
        connection.execute(
            select(nodes.c.id, nodes.c.key).where(nodes.c.id.in_([r[0] for r in rows]))
        ).all()
    )
    return [{"key": names.get(node, str(node)), "count": int(count)} for node, count in rows]


#: Per store and (person, limit): the cached profile aggregates, with the change state they
#: were computed at, when, and this process's graph writes then.
_Entry = tuple[tuple[int, ...], float, int, dict[str, Any]]
_PROFILES: dict[str, dict[tuple[int, int], _Entry]] = {}
_PROFILES_LOCK = threading.Lock()
#: The most people whose aggregates are kept per store.
PROFILE_CACHE = 4096


def _change_state(connection: Connection) -> tuple[int, ...]:
    """A cheap token that changes whenever links or node keys change (append sequences, see
    migration ``0003``, and row counts: a delete or an update moves them)."""
    seq = "rowid" if connection.dialect.name == "sqlite" else "seq"
    row = connection.execute(
        text(
            f"SELECT (SELECT coalesce(max({seq}), 0) FROM links), (SELECT count(*) FROM links), "
            f"(SELECT coalesce(max({seq}), 0) FROM nodes), (SELECT count(*) FROM nodes)"
        )
    ).one()
    return tuple(int(v) for v in row)


def _aggregates(connection: Connection, person: int, limit: int) -> dict[str, Any]:
    links = schema.links
    own = links.alias("own")
    trusted = own.c.flags.op("&")(int(Flag.TIME_SUSPECT)) == 0
    first, last = connection.execute(
        select(func.min(own.c.time), func.max(own.c.time)).where(own.c.src == person, trusted)
    ).one()
    by_kind: dict[str, int] = dict(
        connection.execute(
            select(own.c.kind, func.count()).where(own.c.src == person).group_by(own.c.kind)
        ).all()
    )
    change = links.alias("change")
    files = select(change.c.dst, func.count()).join_from(own, change, change.c.src == own.c.dst)
    files = files.where(
        own.c.src == person,
        own.c.kind == LinkKind.AUTHORED.value,
        change.c.kind == LinkKind.CHANGED.value,
    ).group_by(change.c.dst)
    other = links.alias("other")
    coworkers = (
        select(other.c.src, func.count(distinct(own.c.dst)))
        .join_from(own, other, other.c.dst == own.c.dst)
        .where(
            own.c.src == person,
            own.c.kind.in_(PERSON_TO_ITEM),
            other.c.kind.in_(PERSON_TO_ITEM),
            other.c.src != person,
            other.c.src.not_in(  # people who opted out are no one's co-workers
                select(schema.nodes.c.id).where(
                    schema.nodes.c.flags.op("&")(int(Flag.OPTED_OUT)) != 0
                )
            ),
        )
        .group_by(other.c.src)
    )
    return {
        "first_activity": first,
        "last_activity": last,
        "links": {k: int(v) for k, v in sorted(by_kind.items())},
        "files": _top(connection, files, limit),
        "coworkers": _top(connection, coworkers, limit),
    }


def _cached_aggregates(
    store: Store, connection: Connection, person: int, limit: int
) -> dict[str, Any]:
    """:func:`_aggregates`, kept per store until its links or node keys change (the busiest
    people's co-workers take tens of milliseconds to count), or, for a store with a read lag
    (a server while another process ingests), until that lag passed or this process wrote.
    Counts older than the lag but younger than :data:`STALE_LAGS` lags are answered as they
    are while :data:`RECOUNTS` counts them again in the background."""
    with _PROFILES_LOCK:
        entry = _PROFILES.get(store.cache_key, {}).get((person, limit))
    # with a read lag (a server while another process ingests), counts younger than the lag
    # when this process wrote nothing since, without even counting the rows
    if entry is not None and store.within_read_lag(entry[1], entry[2]):
        return copy.deepcopy(entry[3])
    if entry is not None and store.within_read_lag(entry[1], entry[2], lags=STALE_LAGS):
        RECOUNTS.ask(store, person, limit)
        return copy.deepcopy(entry[3])
    return copy.deepcopy(_count(store, connection, person, limit))


def _count(store: Store, connection: Connection, person: int, limit: int) -> dict[str, Any]:
    """Count ``person``'s aggregates unless the store did not change since the kept ones, and
    keep them (as new)."""
    now, own = time.monotonic(), store.graph_writes
    with _PROFILES_LOCK:
        entry = _PROFILES.get(store.cache_key, {}).get((person, limit))
    state = _change_state(connection)
    if entry is not None and entry[0] == state:
        found = entry[3]  # still current (and younger again)
    else:
        found = _aggregates(connection, person, limit)
    with _PROFILES_LOCK:
        entries = _PROFILES.setdefault(store.cache_key, {})
        if len(entries) >= PROFILE_CACHE:
            entries.clear()
        entries[(person, limit)] = (state, now, own, found)
    return found


class Recounts:
    """Profiles counted again in one background thread (at ``nice`` :data:`RECOUNT_NICE`),
    each (store, person, limit) queued once at a time, so that a reader of counts past the
    read lag is not the one who waits for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: set[tuple[str, int, int]] = set()
        self._queue: queue.SimpleQueue[tuple[Store, int, int]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def ask(self, store: Store, person: int, limit: int) -> None:
        """Count ``person``'s aggregates again soon (once, however often asked meanwhile)."""
        with self._lock:
            if (store.cache_key, person, limit) in self._queued:
                return
            self._queued.add((store.cache_key, person, limit))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="knotwork-recounts", daemon=True
                )
                self._thread.start()
        self._queue.put((store, person, limit))

    def wait(self, timeout: float = 30.0) -> bool:
        """Whether every asked recount ended within ``timeout`` seconds (for tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._queued:
                    return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        lower_priority(RECOUNT_NICE, thread=True)
        while True:
            store, person, limit = self._queue.get()
            try:
                with store.connect() as connection:
                    _count(store, connection, person, limit)
            except Exception:  # the next reader counts in its own thread
                log.exception("counting the profile of %s again failed", person)
            finally:
                with self._lock:
                    self._queued.discard((store.cache_key, person, limit))


#: Counts older than the read lag are served while recounted, up to this many lags old.
STALE_LAGS = 2.0
#: How much lower the recounting thread runs (nice).
RECOUNT_NICE = 10
#: The background recounts of this process.
RECOUNTS = Recounts()


def forget_profiles() -> None:
    """Drop the cached profile counts of every store (e.g. after an erasure)."""
    with _PROFILES_LOCK:
        _PROFILES.clear()


def profile(store: Store, person: int, *, limit: int = 10) -> dict[str, Any]:
    """A person: name, aliases, first/last activity, links by kind, top files, co-workers.

    Files are those changed by commits the person authored; co-workers are the people who
    took part (authored, reviewed, acked, signed off, ...) in the same work items (people who
    opted out left out). The counts
    are kept until the store's links or node keys change; name and aliases are always read.
    """
    nodes, aliases = schema.nodes, schema.aliases
    with store.connect() as connection:
        row = connection.execute(select(nodes).where(nodes.c.id == person)).one_or_none()
        if row is None:
            raise NotFoundError("no such person", place=str(person))
        alias_rows = connection.execute(
            select(aliases.c.kind, aliases.c.value)
            .where(aliases.c.person == person)
            .order_by(aliases.c.kind, aliases.c.value)
        ).all()
        counts = _cached_aggregates(store, connection, person, limit)
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "bot": bool(row.flags & Flag.BOT),
        "attrs": json.loads(row.attrs),
        "aliases": [{"kind": k, "value": v} for k, v in alias_rows],
        **counts,
    }


def normalise_name(name: str) -> str:
    """Casefolded, accents stripped, whitespace collapsed.

    >>> normalise_name("Ångström  Ütte")
    'angstrom utte'
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _tokens(text: str) -> list[str]:
    cleaned = "".join(c if c.isalpha() else " " for c in normalise_name(text))
    return cleaned.split()


def local_forms(email: str) -> set[str]:
    """Names an email's local part may spell: ``jean.dupont`` gives ``jean dupont`` and more.

    The ``+tag`` is dropped; digits and punctuation separate words. One-word local parts give
    only themselves (``jdupont``), which matches a name's ``initial + surname`` form.
    """
    local = email.partition("@")[0].partition("+")[0]
    words = _tokens(local)
    if not words:
        return set()
    if len(words) == 1:
        return {words[0]}
    return {" ".join(words), " ".join(reversed(words)), "".join(words)}


def name_forms(name: str) -> dict[str, str]:
    """The keys under which a name is indexed, each with the evidence it gives.

    >>> sorted(name_forms("Jean Dupont").items())
    [('jdupont', 'initial and surname'), ('jean dupont', 'name'), ('jeandupont', 'name')]
    """
    words = _tokens(name)
    if len(words) < 2:  # a single word ("admin", "alex") is no evidence of anything
        return {}
    return {
        " ".join(words): "name",
        "".join(words): "name",
        words[0][0] + words[-1]: "initial and surname",
    }


@dataclass(slots=True)
class _Person:
    id: int
    key: str
    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)


def _people(connection: Connection) -> dict[int, _Person]:
    nodes, aliases = schema.nodes, schema.aliases
    merged = set(active_merges(connection))
    people: dict[int, _Person] = {}
    query = select(nodes.c.id, nodes.c.key, nodes.c.name).where(
        nodes.c.kind == NodeKind.PERSON.value, nodes.c.flags.op("&")(int(Flag.BOT)) == 0
    )
    for node, key, name in connection.execute(query):
        if node in merged:
            continue
        person = people[node] = _Person(node, key)
        if name:
            person.names.add(name)
        if "@" in key:
            person.emails.add(key)
    rows = select(aliases.c.person, aliases.c.kind, aliases.c.value).where(
        aliases.c.kind.in_(("name", "email"))
    )
    for node, kind, value in connection.execute(rows):
        if node in people:
            (people[node].names if kind == "name" else people[node].emails).add(value)
    return people


def suggest(store: Store, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Pairs of people who may be one, with their evidence; the most evidence first.

    Blocking keeps it linear: every name is indexed under its normalised forms, and only
    people who share an index key are compared. Nothing is merged.
    """
    with store.connect() as connection:
        people = _people(connection)
        pairs = connection.execute(select(schema.separate.c.a, schema.separate.c.b))
        rejected = {(int(a), int(b)) for a, b in pairs}
    index: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for person in people.values():
        for name in person.names:
            for form, why in name_forms(name).items():
                index[form].append((person.id, name, why))
    evidence: dict[tuple[int, int], set[str]] = defaultdict(set)

    def note(a: int, b: int, text: str) -> None:
        if a != b and (min(a, b), max(a, b)) not in rejected:
            evidence[(min(a, b), max(a, b))].add(text)

    for form, entries in index.items():
        if len(entries) > 1 and " " in form:
            for i, (a, name_a, _) in enumerate(entries):
                for b, name_b, _ in entries[i + 1 :]:
                    note(a, b, f"same name: {name_a!r} and {name_b!r}")
    for person in people.values():
        for email in person.emails:
            for form in local_forms(email):
                for other, name, why in index.get(form, ()):
                    note(person.id, other, f"{why} {name!r} matches email {email!r}")
    found: list[dict[str, Any]] = [
        {
            "a": {"id": a, "key": people[a].key},
            "b": {"id": b, "key": people[b].key},
            "evidence": sorted(texts),
        }
        for (a, b), texts in evidence.items()
    ]
    found.sort(key=lambda s: (-len(s["evidence"]), s["a"]["key"], s["b"]["key"]))
    return found[:limit] if limit is not None else found


__all__ = [
    "PERSON_TO_ITEM",
    "RECOUNTS",
    "STALE_LAGS",
    "Recounts",
    "active_merges",
    "candidates",
    "follow",
    "forget_profiles",
    "local_forms",
    "name_forms",
    "normalise_name",
    "profile",
    "resolve",
    "suggest",
]
