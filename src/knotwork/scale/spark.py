"""The batch graph jobs on Apache Spark DataFrames, equal to the local engine's answers.

Input is a Parquet export (:mod:`knotwork.scale.parquet`) or any DataFrame of links with the
columns ``src``, ``dst`` (node positions), ``kind`` and ``weight`` (decayed). The jobs:

* :func:`pagerank`: the authority walk of :mod:`knotwork.services.authority` — each link kind
  adds ``weight * forward`` to ``src -> dst`` and ``weight * backward`` to ``dst -> src``;
  rows are normalised; dangling mass and the teleport go to the personalization vector
  (uniform) — iterated like :class:`knotwork.graph.rank.Walk` until the L1 change is below
  ``tol``, so both engines agree within the tolerance.
* :func:`personalized_pagerank`: the same walk for a batch of seed sets at once (every group,
  every need), one DataFrame column ``seed_set`` carrying which set a row belongs to.
* :func:`components` and :func:`label_propagation`: the rules of
  :mod:`knotwork.graph.propagation`, so labels are identical for a fixed seed.

Each iteration joins the transition table (partitioned by ``src`` once and cached) with the
current vector; whenever an iteration is measured (every :data:`CHECK_EVERY` steps of a walk,
every round of components and label propagation) the vector is checkpointed to cut the
lineage, so that long runs neither slow down nor grow their plans without bound.

A session for tests and one machine::

    spark = session("local[2]")
    result = pagerank(spark, links_frame(spark, "export/"), n_nodes)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from knotwork.errors import InputError
from knotwork.graph.propagation import SCORE_DECIMALS, initial_labels
from knotwork.scale.parquet import read_meta

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Iterations of a walk between two measures of its change (one Spark job each).
CHECK_EVERY = 5

#: Called with (iterations so far, largest L1 change) at each measure of a walk.
Progress = Callable[[int, float], None]


@dataclass(frozen=True, slots=True)
class SparkRank:
    """A PageRank vector computed on Spark, the iterations it took and whether it converged."""

    vector: FloatArray
    iterations: int
    converged: bool


def session(master: str = "local[2]", *, app: str = "knotwork", **conf: str) -> Any:
    """A SparkSession for the jobs (UI off, few shuffle partitions on one machine)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            "PySpark is not installed: pip install 'knotwork[spark]'", place="--engine spark"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", conf.pop("partitions", "8"))
        .config("spark.driver.memory", conf.pop("driver_memory", "4g"))
        .config("spark.sql.adaptive.enabled", "true")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="knotwork-spark-"))
    return spark


def links_frame(spark: Any, folder: str | Path) -> Any:
    """The links of a Parquet export as a DataFrame (``src``, ``dst``, ``kind``, ``weight``)."""
    read_meta(folder)
    return spark.read.parquet(str(Path(folder) / "links"))


def links_from_arrays(
    spark: Any, src: Sequence[int], dst: Sequence[int], kind: Sequence[str], weight: Sequence[float]
) -> Any:
    """A links DataFrame from columns (tests and small graphs)."""
    rows = list(
        zip(
            (int(s) for s in src),
            (int(d) for d in dst),
            (str(k) for k in kind),
            (float(w) for w in weight),
            strict=True,
        )
    )
    return spark.createDataFrame(rows, "src long, dst long, kind string, weight double")


def adjacency(spark: Any, links: Any, weights: Mapping[str, tuple[float, float]]) -> Any:
    """Weighted directed pairs ``(src, dst, w)``: each kind forward and backward, summed."""
    from pyspark.sql import functions as F

    table = spark.createDataFrame(
        [(k, float(f), float(b)) for k, (f, b) in weights.items()],
        "kind string, fw double, bw double",
    )
    weighted = links.join(F.broadcast(table), "kind")
    forward = weighted.select(
        F.col("src").cast("long").alias("src"),
        F.col("dst").cast("long").alias("dst"),
        (F.col("weight") * F.col("fw")).alias("w"),
    )
    backward = weighted.select(
        F.col("dst").cast("long").alias("src"),
        F.col("src").cast("long").alias("dst"),
        (F.col("weight") * F.col("bw")).alias("w"),
    )
    both = forward.unionByName(backward).where(F.col("w") > 0)
    return both.groupBy("src", "dst").agg(F.sum("w").alias("w"))


def _transition(pairs: Any) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    out = F.sum("w").over(Window.partitionBy("src"))
    return pairs.select("src", "dst", (F.col("w") / out).alias("p")).repartition("src").persist()


def _seeds_frame(spark: Any, seed_sets: Mapping[str, Mapping[int, float]]) -> Any:
    rows: list[tuple[str, int, float]] = []
    for name, seeds in seed_sets.items():
        total = float(sum(v for v in seeds.values() if v > 0))
        if total <= 0:
            raise InputError("a seed set needs a positive weight", place=f"seed set {name}")
        rows.extend((name, int(node), float(v) / total) for node, v in seeds.items() if v > 0)
    return spark.createDataFrame(rows, "seed_set string, node long, p double")


def personalized_pagerank(
    spark: Any,
    links: Any,
    n_nodes: int,
    seed_sets: Mapping[str, Mapping[int, float]],
    *,
    weights: Mapping[str, tuple[float, float]],
    damping: float = 0.85,
    tol: float = 1e-9,
    max_iter: int = 200,
) -> dict[str, SparkRank]:
    """Personalized PageRank for every seed set at once (``{name: {node: weight}}``).

    For each set the walk teleports (and sends dangling mass) to its seeds, as
    :meth:`knotwork.graph.rank.Walk.rank` does with a personalization vector.
    """
    return _walk(
        spark,
        links,
        n_nodes,
        _seeds_frame(spark, seed_sets),
        sorted(seed_sets),
        weights=weights,
        damping=damping,
        tol=tol,
        max_iter=max_iter,
    )


def pagerank(
    spark: Any,
    links: Any,
    n_nodes: int,
    *,
    weights: Mapping[str, tuple[float, float]],
    damping: float = 0.85,
    tol: float = 1e-9,
    max_iter: int = 200,
    progress: Progress | None = None,
) -> SparkRank:
    """PageRank with a uniform teleport (see the module docstring); ``progress(iterations,
    change)`` is called at each measure of the change (every :data:`CHECK_EVERY` iterations)."""
    from pyspark.sql import functions as F

    if n_nodes <= 0:
        return SparkRank(np.zeros(0), 0, True)
    uniform = spark.range(n_nodes).select(
        F.lit("all").alias("seed_set"), F.col("id").alias("node"), F.lit(1.0 / n_nodes).alias("p")
    )
    return _walk(
        spark,
        links,
        n_nodes,
        uniform,
        ["all"],
        weights=weights,
        damping=damping,
        tol=tol,
        max_iter=max_iter,
        progress=progress,
    )["all"]


def _walk(
    spark: Any,
    links: Any,
    n_nodes: int,
    seeds: Any,
    names: list[str],
    *,
    weights: Mapping[str, tuple[float, float]],
    damping: float,
    tol: float,
    max_iter: int,
    progress: Progress | None = None,
) -> dict[str, SparkRank]:
    """Power iteration for seed sets ``(seed_set, node, p)``; converged when L1 change < tol.

    The change is measured every :data:`CHECK_EVERY` iterations (one Spark job each), where the
    vector is also checkpointed; the answer may thus take a few more iterations than the local
    engine, which only brings it closer to the exact vector.
    """
    from pyspark.sql import functions as F

    if not 0.0 <= damping < 1.0:
        raise InputError("damping must be in [0, 1)", place="damping")
    transition = _transition(adjacency(spark, links, weights))
    sources = transition.select(F.col("src").alias("node")).distinct().persist()
    seeds = seeds.persist()
    x = seeds.select("seed_set", "node", F.col("p").alias("x"))
    converged = {name: False for name in names}
    history: list[Any] = []
    iterations = 0
    for iterations in range(1, max_iter + 1):
        lost = (
            x.join(sources, "node", "left_anti").groupBy("seed_set").agg(F.sum("x").alias("lost"))
        )
        flow = (
            x.join(transition, x.node == transition.src)
            .groupBy("seed_set", F.col("dst").alias("node"))
            .agg(F.sum(F.col("x") * F.col("p")).alias("f"))
        )
        teleport = seeds.join(F.broadcast(lost), "seed_set", "left").select(
            "seed_set",
            "node",
            (F.col("p") * (damping * F.coalesce("lost", F.lit(0.0)) + 1.0 - damping)).alias("t"),
        )
        new = (
            flow.join(teleport, ["seed_set", "node"], "full_outer")
            .select(
                "seed_set",
                "node",
                (damping * F.coalesce("f", F.lit(0.0)) + F.coalesce("t", F.lit(0.0))).alias("x"),
            )
            .persist()
        )
        if iterations % CHECK_EVERY and iterations < max_iter:
            history.append(x)
            x = new
            continue
        new = new.localCheckpoint(eager=True)
        change = (
            new.join(x.withColumnRenamed("x", "old"), ["seed_set", "node"], "full_outer")
            .groupBy("seed_set")
            .agg(F.sum(F.abs(F.coalesce("x", F.lit(0.0)) - F.coalesce("old", F.lit(0.0)))))
            .collect()
        )
        for frame in [*history, x]:
            frame.unpersist()
        history = []
        x = new
        done = {row[0]: row[1] < tol for row in change}
        if progress is not None:
            progress(iterations, max((float(row[1]) for row in change), default=0.0))
        converged = {name: done.get(name, True) for name in names}
        if all(converged.values()):
            break
    vectors = {name: np.zeros(n_nodes) for name in names}
    for name, node, value in x.toLocalIterator():
        vectors[name][int(node)] = float(value)
    for frame in (x, transition, sources, seeds):
        frame.unpersist()
    return {
        name: SparkRank(
            vectors[name] / max(vectors[name].sum(), 1e-300), iterations, converged[name]
        )
        for name in names
    }


def _next_labels(labels: Any, new: Any) -> tuple[Any, int]:
    """Checkpoint a round's labels (cutting the lineage); how many changed since ``labels``."""
    new = new.localCheckpoint(eager=True)
    changed = new.join(labels.withColumnRenamed("label", "old"), "node").where("label != old")
    count = int(changed.count())
    labels.unpersist()
    return new, count


def _collect_vector(frame: Any, column: str, n: int, dtype: Any) -> Any:
    out = np.zeros(n, dtype=dtype)
    for batch in frame.select("node", column).toLocalIterator():
        out[int(batch[0])] = batch[1]
    return out


def _undirected(spark: Any, links: Any) -> Any:
    from pyspark.sql import functions as F

    pairs = links.select(
        F.col("src").cast("long").alias("a"), F.col("dst").cast("long").alias("b"), "weight"
    ).where("a != b")
    both = pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b"), "weight"))
    return both


def components(spark: Any, links: Any, n_nodes: int, *, max_iter: int = 1000) -> IntArray:
    """Weakly connected components: each node labelled by the smallest index in its component."""
    from pyspark.sql import functions as F

    edges = _undirected(spark, links).select("a", "b").distinct().repartition("a").persist()
    labels = spark.range(n_nodes).select(F.col("id").alias("node"), F.col("id").alias("label"))
    labels = labels.persist()
    for _iteration in range(1, max_iter + 1):
        offered = (
            edges.join(labels, edges.b == labels.node)
            .groupBy(F.col("a").alias("node"))
            .agg(F.min("label").alias("offer"))
        )
        new = labels.join(offered, "node", "left").select(
            "node", F.least("label", F.coalesce("offer", "label")).alias("label")
        )
        labels, changed = _next_labels(labels, new)
        if not changed:
            break
    result: IntArray = _collect_vector(labels, "label", n_nodes, np.int64)
    labels.unpersist()
    edges.unpersist()
    return result


def label_propagation(
    spark: Any, links: Any, n_nodes: int, *, seed: int = 0, max_rounds: int = 30
) -> IntArray:
    """Synchronous label propagation with the rules of :mod:`knotwork.graph.propagation`."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    edges = (
        _undirected(spark, links)
        .groupBy("a", "b")
        .agg(F.sum("weight").alias("w"))
        .where("w > 0")
        .repartition("a")
        .persist()
    )
    own = edges.groupBy(F.col("a").alias("node")).agg(F.max("w").alias("own")).persist()
    start = initial_labels(n_nodes, seed)
    labels = spark.createDataFrame(
        [(i, int(start[i])) for i in range(n_nodes)], "node long, label long"
    ).persist()
    best = Window.partitionBy("node").orderBy(F.desc("score"), F.asc("label"))
    for _iteration in range(1, max_rounds + 1):
        votes = edges.join(labels, edges.b == labels.node).select(
            F.col("a").alias("node"), "label", "w"
        )
        mine = labels.join(own, "node").select("node", "label", F.col("own").alias("w"))
        chosen = (
            votes.unionByName(mine)
            .groupBy("node", "label")
            .agg(F.round(F.sum("w"), SCORE_DECIMALS).alias("score"))
            .withColumn("rank", F.row_number().over(best))
            .where("rank = 1")
            .select("node", F.col("label").alias("chosen"))
        )
        new = labels.join(chosen, "node", "left").select(
            "node", F.coalesce("chosen", "label").alias("label")
        )
        labels, changed = _next_labels(labels, new)
        if not changed:
            break
    result: IntArray = _collect_vector(labels, "label", n_nodes, np.int64)
    for frame in (labels, edges, own):
        frame.unpersist()
    return result


__all__ = [
    "CHECK_EVERY",
    "Progress",
    "SparkRank",
    "adjacency",
    "components",
    "label_propagation",
    "links_frame",
    "links_from_arrays",
    "pagerank",
    "personalized_pagerank",
    "session",
]
