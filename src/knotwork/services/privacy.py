"""Privacy: no aggregate or group listing describes fewer than ``k_min`` people.

Every figure that health, the report and group listings show about a set of people passes
through here. Three rules:

1. **Minimum size.** An aggregate over fewer than ``k_min`` people is *suppressed*: it is
   replaced by a note, never shown (:func:`release`). ``k_min`` defaults to 5 and is never
   lower than 3 (:func:`check_k_min` raises a :class:`~knotwork.errors.ConfigError`).
2. **No differencing.** Two aggregates over overlapping sets ``A`` and ``B`` could reveal one
   person by subtraction (the sum over ``A`` minus the sum over ``B`` when ``A \\ B`` is one
   person). A :class:`Ledger` remembers the sets it released; a new set ``S`` is released only
   when, for every released ``R``, both ``R \\ S`` and ``S \\ R`` are empty or hold at least
   ``k_min`` people. So any difference of two released sets covers zero or ``k_min`` or more
   people. (The rule is pairwise: it is what one report or one ``health`` run guarantees.)
   Across requests, the API keeps one ledger per kind of figure in its store
   (:class:`knotwork.services.privacy_store.StoredLedgers`, shared by every worker and kept
   across restarts): ``groups``, ``health`` and ``participation`` take it, so that two answers
   to overlapping filters (another ``as_of``, a person who opted out in between) never differ
   by fewer than ``k_min`` people. :class:`Ledgers` is the same in memory, for one process.
3. **Own figures only.** A person's individual metrics are shown to that person
   (``knotwork me --as ALIAS``), never as part of someone else's aggregate.

>>> release([1, 2, 3, 4], 0.5, k_min=5).suppressed
True
>>> release(range(6), 0.5, k_min=5).value
0.5
>>> check_k_min(2)
Traceback (most recent call last):
...
knotwork.errors.ConfigError: k_min: must be at least 3 (fewer people would be identifiable), got 2
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from knotwork.errors import ConfigError

DEFAULT_K_MIN = 5
LOWEST_K_MIN = 3

T = TypeVar("T")


def check_k_min(k_min: int) -> int:
    """``k_min`` when it is allowed (at least :data:`LOWEST_K_MIN`); a ``ConfigError`` if not.

    >>> check_k_min(5)
    5
    """
    if int(k_min) < LOWEST_K_MIN:
        raise ConfigError(
            f"must be at least {LOWEST_K_MIN} (fewer people would be identifiable), got {k_min}",
            place="k_min",
        )
    return int(k_min)


def note(count: int, k_min: int) -> str:
    """The note shown in place of a suppressed figure.

    >>> note(4, 5)
    'suppressed: describes 4 people, fewer than k_min = 5'
    """
    return f"suppressed: describes {count} people, fewer than k_min = {k_min}"


def differencing_note(k_min: int) -> str:
    """The note shown in place of a figure that would allow differencing.

    >>> differencing_note(5)
    'suppressed: would differ from an earlier figure by fewer than k_min = 5 people'
    """
    return f"suppressed: would differ from an earlier figure by fewer than k_min = {k_min} people"


@dataclass(frozen=True, slots=True)
class Released(Generic[T]):
    """A figure about ``count`` people: ``value``, or None with a ``note`` when suppressed."""

    value: T | None
    count: int
    note: str = ""

    @property
    def suppressed(self) -> bool:
        """Whether the figure was withheld."""
        return bool(self.note)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the value, or ``None`` and the note."""
        return {"value": self.value, "people": self.count, "note": self.note or None}


def release(people: Iterable[Any], value: T, *, k_min: int = DEFAULT_K_MIN) -> Released[T]:
    """``value`` released for the set ``people`` when it holds ``k_min`` or more, else a note.

    >>> release(["a", "b", "c"], 7, k_min=3).value
    7
    """
    check_k_min(k_min)
    count = len(set(people))
    if count < k_min:
        return Released(None, count, note(count, k_min))
    return Released(value, count)


def release_count(count: int, value: T, *, k_min: int = DEFAULT_K_MIN) -> Released[T]:
    """Like :func:`release` when only the number of people is known.

    >>> release_count(2, 1.0, k_min=3).suppressed
    True
    """
    check_k_min(k_min)
    if count < k_min:
        return Released(None, count, note(count, k_min))
    return Released(value, count)


def safe_pair(a: frozenset[Any], b: frozenset[Any], k_min: int) -> bool:
    """Whether sets ``a`` and ``b`` may both be released: each difference is 0 or >= ``k_min``.

    >>> safe_pair(frozenset(range(10)), frozenset(range(9)), 5)
    False
    >>> safe_pair(frozenset(range(10)), frozenset(range(5)), 5)
    True
    """
    return all(not 0 < len(difference) < k_min for difference in (a - b, b - a))


@dataclass
class Ledger:
    """The sets released so far in one output; refuses a set that would allow differencing.

    >>> ledger = Ledger(k_min=3)
    >>> ledger.release(range(6), "all").value
    'all'
    >>> ledger.release(range(5), "all but one").note
    'suppressed: would differ from an earlier figure by fewer than k_min = 3 people'
    >>> ledger.release(range(3), "half").value
    'half'
    """

    k_min: int = DEFAULT_K_MIN
    released: list[frozenset[Any]] = field(default_factory=list)
    #: Held while checking and recording (re-entrant: hold it around several releases that
    #: must be decided together, e.g. the groups of one answer).
    lock: AbstractContextManager[Any] = field(
        default_factory=threading.RLock, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        check_k_min(self.k_min)

    def refusal(self, people: Iterable[Any]) -> str:
        """Why a figure about ``people`` may not be released now ("" when it may).

        >>> ledger = Ledger(k_min=3)
        >>> ledger.refusal(range(2))
        'suppressed: describes 2 people, fewer than k_min = 3'
        """
        chosen = frozenset(people)
        if len(chosen) < self.k_min:
            return note(len(chosen), self.k_min)
        with self.lock:
            if all(safe_pair(chosen, old, self.k_min) for old in self.released):
                return ""
        return differencing_note(self.k_min)

    def allows(self, people: Iterable[Any]) -> bool:
        """Whether a figure about ``people`` could be released now."""
        return not self.refusal(people)

    def release(self, people: Iterable[Any], value: T) -> Released[T]:
        """``value`` for ``people``, or a note when too few or when it would allow differencing."""
        chosen = frozenset(people)
        with self.lock:
            why = self.refusal(chosen)
            if why:
                return Released(None, len(chosen), why)
            if chosen not in self.released:
                self.released.append(chosen)
        return Released(value, len(chosen))


class Ledgers:
    """One :class:`Ledger` per kind of figure (``groups``, ``health``, ...), kept across calls:
    so that no two answers of one process can be subtracted to describe fewer than ``k_min``
    people. (In memory, per process: the API uses the store-backed
    :class:`knotwork.services.privacy_store.StoredLedgers`, shared by all its workers.)

    >>> ledgers = Ledgers(k_min=3)
    >>> ledgers["health"].release(range(6), "figure").value
    'figure'
    >>> ledgers["health"].release(range(5), "figure").note[:40]
    'suppressed: would differ from an earlier'
    >>> ledgers["groups"].release(range(5), "figure").value
    'figure'
    """

    def __init__(self, k_min: int = DEFAULT_K_MIN) -> None:
        self.k_min = check_k_min(k_min)
        self._ledgers: dict[str, Ledger] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kind: str) -> Ledger:
        with self._lock:
            if kind not in self._ledgers:
                self._ledgers[kind] = Ledger(k_min=self.k_min)
            return self._ledgers[kind]


__all__ = [
    "DEFAULT_K_MIN",
    "LOWEST_K_MIN",
    "Ledger",
    "Ledgers",
    "Released",
    "check_k_min",
    "differencing_note",
    "note",
    "release",
    "release_count",
    "safe_pair",
]
