"""The one error tree of Knotwork.

Every error raised on purpose by Knotwork is a :class:`KnotworkError`. Errors carry fields
(``place``: where, ``reason``: what), not just a message, so that the CLI can map them to exit
codes and the API to HTTP statuses in one place each::

    KnotworkError
    ├── ConfigError            bad setting or database URL
    ├── InputError             bad input from a user or a source (has place and reason)
    │   ├── NotARepositoryError    a path that is no git repository
    │   ├── EmptySourceError       a source with nothing in it (an empty repository)
    │   └── SourceReadError        the source could not be read (a git process failed)
    ├── StoreError             the database failed or is at an unknown schema version
    └── NotFoundError          a person, node or alias that does not exist

>>> err = NotARepositoryError(place="/tmp/nowhere", reason="not a git repository")
>>> str(err)
'/tmp/nowhere: not a git repository'
>>> isinstance(err, InputError)
True
"""

from __future__ import annotations


class KnotworkError(Exception):
    """Base of every error Knotwork raises on purpose.

    ``place`` names where the problem is (a file, a line, a record); ``reason`` says what.
    """

    exit_code = 1

    def __init__(self, reason: str, *, place: str | None = None) -> None:
        self.reason = reason
        self.place = place
        super().__init__(f"{place}: {reason}" if place else reason)

    def to_dict(self) -> dict[str, str | None]:
        """The error as plain data, e.g. for ``--json`` output.

        >>> KnotworkError("boom", place="x").to_dict()
        {'error': 'KnotworkError', 'place': 'x', 'reason': 'boom'}
        """
        return {"error": type(self).__name__, "place": self.place, "reason": self.reason}


class ConfigError(KnotworkError):
    """A setting or a database URL that cannot be used."""

    exit_code = 2


class InputError(KnotworkError):
    """Bad input: the place says which file, line or record."""

    exit_code = 3

    def __init__(self, reason: str, *, place: str | None = None) -> None:
        super().__init__(reason, place=place)


class NotARepositoryError(InputError):
    """A path that is not a git work tree nor a bare repository."""


class EmptySourceError(InputError):
    """A source that holds nothing to ingest, e.g. a repository without commits."""


class SourceReadError(InputError):
    """A source that could not be read as a whole (a git process failed)."""


class StoreError(KnotworkError):
    """The store failed: database unreachable, schema from an unknown version."""

    exit_code = 4


class NotFoundError(KnotworkError):
    """A person, node or alias that is not in the store."""

    exit_code = 5


__all__ = [
    "ConfigError",
    "EmptySourceError",
    "InputError",
    "KnotworkError",
    "NotARepositoryError",
    "NotFoundError",
    "SourceReadError",
    "StoreError",
]
