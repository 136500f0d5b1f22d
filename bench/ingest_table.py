"""Benchmark of the table source on the Enron messages, against plain ``json`` in the same run.

    python bench/ingest_table.py [--data ../shared/data/enron] [--repeat N]

The messages (21,635 records) are written ``--repeat`` times (default 5) with fresh ids to a
JSON lines file in a temporary folder, so that the run is long enough to time. Figures:

1. **json floor**: ``json.loads`` of every line and a tuple of the mapped fields per record:
   the least any reader of this file does.
2. **source only**: ``TableSource(...).batches(None)`` under ``docs/examples/enron-messages.toml``,
   records built and dropped. *ratio to floor* = (2) / (1).
3. **ingest, SQLite**: the whole ``ingest`` into a fresh SQLite file; rows per second.
4. **again**: the same file ingested again; must read nothing and leave the digest unchanged.

The figures go to stdout and to ``bench/out/ingest_table.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from knotwork.ingest.tabular import TableSource
from knotwork.store.digest import digest
from knotwork.store.engine import Store
from knotwork.store.writer import ingest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "docs" / "examples" / "enron-messages.toml"


def main() -> int:
    """Run the benchmark; 1 when the re-ingest changes anything."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "enron"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    messages = json.loads((Path(args.data) / "messages.json").read_text())
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "messages.jsonl"
        with table.open("w") as sink:
            for copy in range(args.repeat):
                for message in messages:
                    sink.write(json.dumps({**message, "id": f"{copy}-{message['id']}"}) + "\n")
        rows = len(messages) * args.repeat

        started = time.perf_counter()
        for line in table.read_text().splitlines():
            record = json.loads(line)
            _ = (record["id"], record["time"], record["sender"], record["receiver"])
        floor = time.perf_counter() - started

        started = time.perf_counter()
        for _batch in TableSource(table, MAPPING).batches(None):
            pass
        source = time.perf_counter() - started

        store = Store.open(f"sqlite:///{folder}/k.db")
        started = time.perf_counter()
        report = ingest(store, TableSource(table, MAPPING))
        full = time.perf_counter() - started
        before = digest(store)
        started = time.perf_counter()
        again = ingest(store, TableSource(table, MAPPING))
        second = time.perf_counter() - started
        unchanged = again.read == 0 and digest(store) == before
        store.close()
    figures = {
        "rows": rows,
        "json_floor_s": round(floor, 3),
        "source_s": round(source, 3),
        "source_ratio_to_floor": round(source / floor, 2),
        "ingest_sqlite_s": round(full, 3),
        "ingest_rows_per_s": round(rows / full),
        "ingested": report.ingested,
        "again_s": round(second, 3),
        "again_unchanged": unchanged,
    }
    for key, value in figures.items():
        print(f"{key:24} {value}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest_table.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if unchanged else 1


if __name__ == "__main__":
    sys.exit(main())
