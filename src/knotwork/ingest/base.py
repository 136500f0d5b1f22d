"""What every source shares: the :class:`Source` protocol, :class:`Batch` and :class:`IngestReport`.

A source parses its input into :class:`~knotwork.model.Record` batches and never touches the
database. Each batch carries the source's resume **cursor** as it stands once the batch is
stored; the store writes a batch and its cursor in one transaction, so that an interrupted
ingest resumes where it stopped and ingesting the same data twice changes nothing.

>>> report = IngestReport(source="git", location="repo")
>>> report.count(read=3, ingested=2, rejected=1, duplicates=0)
>>> report.balanced, report.read
(True, 3)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from knotwork.model import Record, Rejection

Cursor = dict[str, Any]


@dataclass(slots=True)
class Batch:
    """Records read together, with the cursor that holds once they are stored.

    ``read`` counts the native records read (``len(records) + len(rejections)``); ``total``,
    when known, is how many the whole run is expected to read (for progress bars).
    """

    records: list[Record]
    rejections: list[Rejection]
    cursor: Cursor
    total: int | None = None

    @property
    def read(self) -> int:
        """Native records read in this batch."""
        return len(self.records) + len(self.rejections)


class Source(Protocol):
    """A source of records.

    ``kind`` is the source type (``git``), ``name`` a stable name of this origin (the key of its
    cursor in the store), ``location`` where it was read from (for messages).
    """

    kind: str
    name: str
    location: str

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches of records not yet covered by ``cursor``."""
        ...


@dataclass(slots=True)
class IngestReport:
    """Counts of one ingest: ``read = ingested + rejected + duplicates`` always holds."""

    source: str
    location: str
    read: int = 0
    ingested: int = 0
    rejected: int = 0
    duplicates: int = 0
    defects: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    defect_places: list[str] = field(default_factory=list)

    def count(self, *, read: int, ingested: int, rejected: int, duplicates: int) -> None:
        """Add one batch's counts."""
        self.read += read
        self.ingested += ingested
        self.rejected += rejected
        self.duplicates += duplicates

    @property
    def balanced(self) -> bool:
        """Whether ``read == ingested + rejected + duplicates``."""
        return self.read == self.ingested + self.rejected + self.duplicates

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``--json``)."""
        return {
            "source": self.source,
            "location": self.location,
            "read": self.read,
            "ingested": self.ingested,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "defects": self.defects,
            "seconds": round(self.seconds, 3),
            "rejections": [{"place": r.place, "reason": r.reason} for r in self.rejections],
            "defect_places": self.defect_places,
        }


__all__ = ["Batch", "Cursor", "IngestReport", "Source"]
