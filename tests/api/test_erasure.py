"""Erasure leaves no trace: not in the database files (SQLite with its WAL, a PostgreSQL dump),
not in the rankings (equal to a fresh ingest without the person), not after re-ingesting."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from knotwork.graph.sample import commit_record
from knotwork.ingest.base import Batch
from knotwork.model import LinkKind, Record
from knotwork.services.authority import top_items, top_people
from knotwork.store.engine import Store
from knotwork.store.erase import erase
from knotwork.store.identity import candidates
from knotwork.store.writer import SourceInfo, write_batch

KEY = b"test-secret-key"
T = 1_600_000_000
DAY = 86_400
GONE = "grace@example.org"
TRACES = ("grace@example.org", "grace")
INFO = SourceInfo("git", "git:org", "org")


def organisation() -> list[Record]:
    """Six people over a dozen commits; grace authors, reviews and is named in trailers."""
    g = GONE
    return [
        commit_record("a1", g, T, ["lib/a.c"], f"a: add\n\nSigned-off-by: grace <{g}>"),
        commit_record(
            "a2",
            "alan@example.org",
            T + DAY,
            ["lib/a.c", "lib/b.c"],
            f"b: fix\n\nReviewed-by: grace <{g}>",
            reviews=[g],
        ),
        commit_record(
            "a3",
            "linus@example.org",
            T + 2 * DAY,
            ["lib/b.c"],
            "b: tidy",
            acks=["alan@example.org"],
        ),
        commit_record(
            "a4",
            "ken@example.org",
            T + 3 * DAY,
            ["drv/x.c"],
            "x: new driver",
            reviews=["dennis@example.org"],
        ),
        commit_record(
            "a5",
            "dennis@example.org",
            T + 4 * DAY,
            ["drv/x.c", "lib/a.c"],
            "x: use a (thanks Grace)",
            acks=[g, "ken@example.org"],
        ),
        commit_record("a6", g, T + 5 * DAY, ["lib/c.c"], "c: start"),
        commit_record(
            "a7", "alan@example.org", T + 6 * DAY, ["lib/c.c", "lib/b.c"], "c: grow", handles=[g]
        ),
        commit_record(
            "a8",
            "linus@example.org",
            T + 7 * DAY,
            ["drv/x.c"],
            "x: speed up",
            reviews=["ken@example.org", "alan@example.org"],
        ),
    ]


def without(records: list[Record], email: str) -> list[Record]:
    """Reference: the records as if the person had never been there (what they authored gone,
    their links and aliases dropped, their aliases blanked in texts)."""
    kept = []
    for r in records:
        dead = {n.id for n in r.nodes if n.key == email}
        if any(k.kind is LinkKind.AUTHORED and k.src in dead for k in r.links):
            continue
        texts = {
            n: t.replace(email, "[erased]").replace("grace", "[erased]") for n, t in r.texts.items()
        }
        kept.append(
            Record(
                r.source,
                r.key,
                r.place,
                [n for n in r.nodes if n.id not in dead],
                [k for k in r.links if k.src not in dead and k.dst not in dead],
                [a for a in r.aliases if a.person not in dead],
                texts,
                r.defects,
            )
        )
    return kept


def dump(store: Store) -> bytes:
    """Every byte the database keeps: the SQLite file and its WAL, or a pg_dump of the schema."""
    if store.backend == "sqlite":
        path = Path(str(store.engine.url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    url = store.engine.url
    schema = re.search(r"search_path%3D(\w+)|search_path=(\w+)", store.url)
    assert schema is not None
    name = schema.group(1) or schema.group(2)
    host = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    target = f"postgresql://{url.username or ''}@{host}/{url.database}"
    return subprocess.run(
        ["pg_dump", "--schema", name, target], capture_output=True, check=True
    ).stdout


def assert_no_trace(store: Store) -> None:
    data = dump(store).lower()
    for trace in TRACES:
        assert trace.encode() not in data, trace
    with store.connect() as connection:
        assert candidates(connection, GONE) == []


def ranks(store: Store) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    people = [(r["key"], round(r["score"], 9)) for r in top_people(store, limit=50)]
    items = [(r["key"], round(r["score"], 9)) for r in top_items(store, limit=50)]
    return people, items


def test_erasure_leaves_no_trace(
    new_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KNOTWORK_SECRET_KEY", KEY.decode())
    make = new_store
    store = make()
    write_batch(store, INFO, Batch(organisation(), [], {}))
    assert b"grace" in dump(store).lower()  # the grep can find her before
    assert erase(store, GONE, key=KEY)["nodes"] == 3  # grace and her two commits
    assert_no_trace(store)

    fresh = make()
    write_batch(fresh, INFO, Batch(without(organisation(), GONE), [], {}))
    assert ranks(store) == ranks(fresh)

    later = [
        commit_record("b1", GONE, T + 9 * DAY, ["lib/d.c"], "d: grace is back?"),
        commit_record(
            "b2",
            "ken@example.org",
            T + 9 * DAY,
            ["lib/d.c"],
            f"d: fix\n\nReviewed-by: grace <{GONE}>",
            reviews=[GONE],
        ),
    ]
    write_batch(store, INFO, Batch(organisation() + later, [], {}))
    assert_no_trace(store)
    keys = [key for key, _ in ranks(store)[0]]
    assert "ken@example.org" in keys and GONE not in keys
