"""Git's ``.mailmap``: map the names and addresses written in commits to canonical ones.

git maps authors and committers itself (``%aN``, ``%aE``); this module maps the identities
that git leaves alone, those in trailers (``Reviewed-by: Name <email>``), with the same
rules, so that a person reads the same whether they authored or reviewed. The four line forms::

    Proper Name <commit@email>                                  # name for this address
    <proper@email> <commit@email>                               # address for this address
    Proper Name <proper@email> <commit@email>                   # both, for this address
    Proper Name <proper@email> Commit Name <commit@email>       # both, for this name and address

Addresses and names are matched without regard to ASCII case; a later line for the same address
overrides the fields it sets; a line starting with ``#`` is a comment.

>>> mailmap = Mailmap.parse('''
... Ada Lovelace <ada@example.org> <ada@old.example>
... <cb@example.org> Charles <CB@old.example>
... ''')
>>> mailmap.lookup("Ada", "ADA@old.example")
('Ada Lovelace', 'ada@example.org')
>>> mailmap.lookup("Charles", "cb@old.example")
('Charles', 'cb@example.org')
>>> mailmap.lookup("Chuck", "cb@old.example")
('Chuck', 'cb@old.example')
"""

from __future__ import annotations

from dataclasses import dataclass, field

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(text: str) -> str:
    """``text`` with ASCII letters lowercased, as git's ``strcasecmp`` compares."""
    return text.translate(_ASCII_LOWER)


@dataclass(slots=True)
class _Entry:
    """What one commit address maps to: by default, and for given commit names."""

    name: str | None = None
    email: str | None = None
    by_name: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


def _name_and_email(text: str, start: int, allow_empty: bool) -> tuple[str | None, str, int]:
    """Parse ``Name <email>`` from ``text[start:]``: (name or None, email, end), end < 0 if none.

    The name is trimmed and None when empty; the email is kept as written between the angle
    brackets; ``end`` is the index just past ``>``.
    """
    left = text.find("<", start)
    if left < 0:
        return None, "", -1
    right = text.find(">", left + 1)
    if right < 0 or (right == left + 1 and not allow_empty):
        return None, "", -1
    name = text[start:left].strip()
    return (name or None), text[left + 1 : right], right + 1


class Mailmap:
    """A parsed mailmap; :meth:`lookup` maps one (name, email) as git does."""

    __slots__ = ("_cache", "_entries")

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._cache: dict[tuple[str, str], tuple[str, str]] = {}

    @classmethod
    def parse(cls, *texts: str) -> Mailmap:
        """A mailmap from the texts of mailmap files, read in order (later lines win)."""
        mailmap = cls()
        for text in texts:
            mailmap.add(text)
        return mailmap

    def __len__(self) -> int:
        """The number of commit addresses that have a mapping."""
        return len(self._entries)

    def add(self, text: str) -> None:
        """Read the lines of one mailmap file into this map."""
        self._cache.clear()
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            name1, email1, end = _name_and_email(line, 0, allow_empty=False)
            if end < 0:
                continue
            name2, email2, end2 = _name_and_email(line, end, allow_empty=True)
            if end2 < 0:
                self._add(name1, email1, None, None)
            else:
                self._add(name1, email1, name2, email2)

    def _add(
        self,
        new_name: str | None,
        new_email: str | None,
        old_name: str | None,
        old_email: str | None,
    ) -> None:
        if old_email is None:
            old_email, new_email = new_email, None
        assert old_email is not None
        entry = self._entries.setdefault(_fold(old_email), _Entry())
        if old_name is None:
            if new_name is not None:
                entry.name = new_name
            if new_email is not None:
                entry.email = new_email
        else:
            entry.by_name[_fold(old_name)] = (new_name, new_email)

    def lookup(self, name: str, email: str) -> tuple[str, str]:
        """The canonical (name, email) of the identity written as ``name <email>``.

        >>> Mailmap.parse("Ada <ada@example.org>").lookup("A. L.", "Ada@Example.org")
        ('Ada', 'Ada@Example.org')
        """
        key = (name, email)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._lookup(name, email)
        return found

    def _lookup(self, name: str, email: str) -> tuple[str, str]:
        entry = self._entries.get(_fold(email))
        if entry is None:
            return name, email
        new_name, new_email = entry.name, entry.email
        if entry.by_name:
            specific = entry.by_name.get(_fold(name))
            if specific is not None:
                new_name, new_email = specific
        return (name if new_name is None else new_name), (email if new_email is None else new_email)


__all__ = ["Mailmap"]
