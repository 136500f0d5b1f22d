"""The org chart source: the formal organisation, from a CSV with one row per person.

Columns (a header line; other columns are ignored; rename them with ``columns``):

``person``
    the person's id in this chart (an employee number, a login, or a name); required
``name``
    display name [default: the ``person`` value]
``email``
    email address: when given, the person is ``Node.person(email)``, the same person as in git,
    mail and chat; otherwise ``table:<namespace>:<person>``
``unit``
    the formal unit: an ``org`` node, and a link ``person -member_of-> unit`` (attrs: ``title``)
``manager``
    the ``person`` value (or the email) of the person's manager: ``person -reports_to-> manager``
``title``
    job title, kept in the person's attrs and on the ``member_of`` link
``parent``
    the unit that the row's unit belongs to: ``unit -member_of-> parent`` (the formal tree)

A manager without a row of their own is still linked (a person keyed by the value), with a
defect noted; a person named as their own manager is not linked. A person in two units takes
two rows. The cursor holds the file's SHA-256: an unchanged chart is not read again.

>>> import tempfile, pathlib
>>> chart = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
>>> _ = chart.write_text("person,unit,manager,title\\n"
...     "ada,Research,,Head\\nalan,Research,ada,Analyst\\n")
>>> [batch] = OrgChartSource(chart).batches(None)
>>> sorted(link.kind.value for record in batch.records for link in record.links)
['member_of', 'member_of', 'reports_to']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from knotwork.errors import InputError
from knotwork.ingest.base import Batch, Cursor
from knotwork.ingest.tabular import RowError, batched, file_state, table_node
from knotwork.ingest.tabular_read import Row, csv_rows, decode
from knotwork.model import Alias, Link, LinkKind, Node, NodeKind, Record, make_id

#: The columns read, by role; :class:`OrgChartSource` takes another header name per role.
COLUMNS = ("person", "name", "email", "unit", "manager", "title", "parent")


class OrgChartSource:
    """The org chart in the CSV file at ``path``.

    ``namespace`` keys the people without an email (``table:<namespace>:<person>``) and the
    units; ``columns`` maps roles of :data:`COLUMNS` to the file's header names.
    """

    kind = "orgchart"

    def __init__(
        self,
        path: str | Path,
        *,
        namespace: str = "orgchart",
        columns: Mapping[str, str] | None = None,
        delimiter: str = ",",
        batch_size: int = 5000,
    ) -> None:
        self.path = Path(path).expanduser()
        self.location = str(path)
        if not self.path.is_file():
            raise InputError("no such file", place=self.location)
        unknown = sorted(set(columns or {}) - set(COLUMNS))
        if unknown:
            raise InputError(
                f"unknown org chart role {unknown[0]!r} (roles: {', '.join(COLUMNS)})",
                place=self.location,
            )
        self.columns = {role: role for role in COLUMNS} | dict(columns or {})
        self.namespace = namespace
        self.delimiter = delimiter
        self.batch_size = max(1, batch_size)
        self.name = f"orgchart:{namespace}:{self.path.stem}"
        self.fingerprint = make_id("orgchart", namespace, repr(sorted(self.columns.items())))

    def _cell(self, row: Row, role: str) -> str:
        value = row.get(self.columns[role]) or ""
        return str(value).replace("\x00", "").strip()

    def _person(self, row: Row) -> tuple[Node, list[Alias]]:
        native = self._cell(row, "person")
        attrs = {k: v for k in ("title", "unit") if (v := self._cell(row, k))}
        name = self._cell(row, "name") or native
        email = self._cell(row, "email")
        return table_node(
            NodeKind.PERSON, self.namespace, native, name=name, email=email, attrs=attrs
        )

    def batches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """One batch of ``batch_size`` rows after another; each row is one record."""
        data, text, lossy = decode(self.path)
        reads = list(csv_rows(text, self.location, self.delimiter, {self.columns["person"]}))
        people: dict[str, tuple[Node, list[Alias]]] = {}
        for _, row in reads:  # managers resolve to the rows they name, by id or by email
            if isinstance(row, dict) and self._cell(row, "person"):
                found = self._person(row)
                people.setdefault(self._cell(row, "person"), found)
                if email := self._cell(row, "email").lower():
                    people.setdefault(email, found)

        def make(row: Row, place: str) -> Record:
            return self._record(row, place, people, lossy)

        state = file_state(data, self.fingerprint)
        yield from batched(iter(reads), make, state, cursor, self.batch_size)

    def _record(
        self,
        row: Row,
        place: str,
        people: dict[str, tuple[Node, list[Alias]]],
        lossy: bool,
    ) -> Record:
        native = self._cell(row, "person")
        if not native:
            raise RowError(f"column {self.columns['person']!r} is empty")
        unit, title = self._cell(row, "unit"), self._cell(row, "title")
        key = make_id("row", "orgchart", self.namespace, native, unit)
        record = Record("orgchart", key, place)
        if any("\x00" in str(value) for value in row.values()):
            record.defects.append("NUL byte removed")
        if lossy and any("\ufffd" in str(value) for value in row.values()):
            record.defects.append("invalid UTF-8 replaced")
        person, aliases = self._person(row)
        record.nodes.append(person)
        record.aliases.extend(aliases)
        if unit:
            org, _ = table_node(NodeKind.ORG, self.namespace, unit, name=unit)
            record.nodes.append(org)
            self._link(record, native, person.id, org.id, LinkKind.MEMBER_OF, title)
            parent = self._cell(row, "parent")
            if parent and parent != unit:
                above, _ = table_node(NodeKind.ORG, self.namespace, parent, name=parent)
                record.nodes.append(above)
                link_id = make_id("link", "orgchart", self.namespace, "unit", unit, parent)
                link = Link(link_id, org.id, above.id, LinkKind.MEMBER_OF, None, 1.0, 0, {})
                record.links.append(link)
        manager = self._cell(row, "manager")
        if manager:
            known = people.get(manager) or people.get(manager.lower())
            if known is None:
                record.defects.append(f"manager {manager[:80]!r} has no row of their own")
                known = table_node(NodeKind.PERSON, self.namespace, manager, name=manager)
            boss, boss_aliases = known
            if boss.id == person.id:
                record.defects.append("the person is their own manager: no reports_to link")
            else:
                record.nodes.append(boss)
                record.aliases.extend(boss_aliases)
                self._link(record, native, person.id, boss.id, LinkKind.REPORTS_TO, "")
        return record

    def _link(
        self, record: Record, native: str, src: int, dst: int, kind: LinkKind, title: str
    ) -> None:
        link_id = make_id("link", "orgchart", self.namespace, native, kind.value, str(dst))
        attrs = {"title": title} if title else {}
        record.links.append(Link(link_id, src, dst, kind, None, 1.0, 0, attrs))


__all__ = ["COLUMNS", "OrgChartSource"]
