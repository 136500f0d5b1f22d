"""Time identity suggestions over 10,000 aliases (target: at most 5 s).

Usage::

    python bench/identity_suggest.py [--aliases 10000] [--db sqlite:///tmp.db] [--json]

Generates people with realistic name and email variety: most are distinct, some appear under
two addresses (the same name with accents or case changed, or an address whose local part
spells the name) so that suggestions have something to find. Each person brings a name alias
and an email alias. The store is written first (not timed), then ``suggest`` is timed.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from knotwork.ingest.base import Batch
from knotwork.model import Alias, AliasKind, Node, Record
from knotwork.store.engine import Store
from knotwork.store.identity import suggest
from knotwork.store.writer import SourceInfo, write_batch

FIRST = [
    *("ana", "bruno", "carla", "dario", "elena", "felix", "greta", "hugo"),
    *("ines", "jonas", "karin", "luis", "mara", "nils", "olga"),
]
LAST = [
    *("arias", "berg", "costa", "dahl", "engel", "fischer", "garcia"),
    *("hahn", "ivanova", "jensen", "koch", "lind", "moreno"),
]
ACCENTED = {"ana": "Ána", "elena": "Eléna", "ines": "Inés", "luis": "Luís", "olga": "Ólga"}


def people(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` (name, email) pairs, about one in ten a second identity of an earlier one."""
    rng = random.Random(seed)
    found: list[tuple[str, str]] = []
    for i in range(count):
        if found and rng.random() < 0.1:
            name, _ = found[rng.randrange(len(found))]
            first, last = name.split()[0].lower(), name.split()[-1].lower()
            if rng.random() < 0.5:
                found.append((ACCENTED.get(first, first.upper()) + " " + last, f"u{i}@home.net"))
            else:
                found.append((f"{first}{i}", f"{first}.{last}@lists.example.org"))
            continue
        first, last = rng.choice(FIRST), rng.choice(LAST)
        middle = f"{rng.choice('ABCDEFGHJKLMNPRSTVW')}{i % 97}"  # most names are distinct
        found.append((f"{first.title()} {middle} {last.title()}", f"p{i}@work.example.com"))
    return found


def build(store: Store, aliases: int) -> None:
    records = []
    for name, email in people(aliases // 2):
        node = Node.person(email, name)
        records.append(
            Record(
                "bench",
                node.id,
                email,
                nodes=[node],
                aliases=[
                    Alias(AliasKind.NAME, name, node.id),
                    Alias(AliasKind.EMAIL, email, node.id),
                ],
            )
        )
    source = SourceInfo("bench", "bench:identities", "generated")
    write_batch(store, source, Batch(records, [], {"done": len(records)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", type=int, default=10_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            build(store, args.aliases)
            start = time.perf_counter()
            found = suggest(store)
            seconds = time.perf_counter() - start
        finally:
            store.close()
    nodes = args.aliases // 2
    result = {
        "aliases": args.aliases,
        "people": nodes,
        "suggestions": len(found),
        "seconds": round(seconds, 3),
        "target_seconds": 5.0,
        "ok": seconds <= 5.0,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"suggest over {args.aliases:,} aliases ({nodes:,} people): {len(found):,} "
            f"suggestions in {seconds:.3f} s (target <= 5 s)"
        )


if __name__ == "__main__":
    main()
