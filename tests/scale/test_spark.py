"""The Spark jobs give the local engine's answers on the same Parquet export (local[2])."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from knotwork.graph import propagation
from knotwork.graph.rank import Walk
from knotwork.graph.view import GraphView
from knotwork.scale import parquet
from knotwork.services.authority import AUTHORITY_WEIGHTS

if shutil.which("java") is None:  # pragma: no cover - CI has Java
    pytest.skip("Spark tests need Java (java not on PATH)", allow_module_level=True)

spark_module = pytest.importorskip("knotwork.scale.spark")

DAY = 86_400


#: Spark runs a few seconds per iteration on one small machine: the tests use a short walk
#: (damping 0.5 converges in ~20 iterations); the engines agree for any damping.
DAMPING = 0.5


def work_graph(seed: int, people: int = 20, items: int = 60, links: int = 300) -> GraphView:
    """A small work graph: people author and review items, items cite items and change files."""
    rng = np.random.default_rng(seed)
    node_rows = [(1000 + p, "person", f"p{p}@example.org", 0) for p in range(people)]
    node_rows += [(5000 + i, "commit" if i % 3 else "file", f"item{i}", 0) for i in range(items)]
    # two teams: people mostly work on their half of the items, so groups exist
    link_rows = []
    for _ in range(links):
        person = int(rng.integers(people))
        half = person % 2 if rng.random() < 0.9 else 1 - person % 2
        item = int(rng.integers(items // 2)) * 2 + half
        kind = str(rng.choice(["authored", "reviews", "acks", "cites"], p=[0.6, 0.2, 0.1, 0.1]))
        when = 1_500_000_000 + int(rng.integers(0, 2000)) * DAY
        if kind == "cites":
            other = int(rng.integers(items // 2)) * 2 + half
            link_rows.append((5000 + item, 5000 + other, kind, when, 1.0, 0))
        else:
            link_rows.append((1000 + person, 5000 + item, kind, when, float(rng.integers(1, 4)), 0))
    return GraphView.from_rows(node_rows, link_rows, half_life_days=365.0)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_module.session("local[2]", partitions="4")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[GraphView, Path]:
    view = work_graph(7)
    folder = tmp_path_factory.mktemp("export")
    parquet.export_view(view, folder)
    return view, folder


def test_export_round_trip_keeps_every_link(exported: tuple[GraphView, Path]) -> None:
    view, folder = exported
    meta = parquet.read_meta(folder)
    back = parquet.read_links(folder)
    assert (meta["n_nodes"], meta["n_links"]) == (view.n_nodes, view.n_links)
    order = np.lexsort((back["weight"], back["dst"], back["src"]))
    mine = np.lexsort((view.weight, view.dst, view.src))
    assert np.array_equal(back["src"][order], view.src[mine])
    assert np.allclose(back["weight"][order], view.weight[mine], rtol=0, atol=0)
    assert (
        "key"
        not in __import__("pyarrow.parquet").parquet.read_schema(folder / "nodes.parquet").names
    )


def test_pagerank_equals_local_engine(spark: Any, exported: tuple[GraphView, Path]) -> None:
    view, folder = exported
    local = Walk(view.matrix(AUTHORITY_WEIGHTS)).rank(damping=DAMPING, tol=1e-6)
    remote = spark_module.pagerank(
        spark,
        spark_module.links_frame(spark, folder),
        view.n_nodes,
        weights=AUTHORITY_WEIGHTS,
        damping=DAMPING,
        tol=1e-6,
    )
    assert remote.converged and local.converged
    assert float(np.abs(remote.vector - local.vector).sum()) < 1e-6
    assert local.iterations <= remote.iterations < local.iterations + spark_module.CHECK_EVERY


def test_personalized_batch_equals_local(spark: Any, exported: tuple[GraphView, Path]) -> None:
    view, folder = exported
    walk = Walk(view.matrix(AUTHORITY_WEIGHTS))
    seed_sets = {"team-a": {0: 1.0, 2: 3.0}, "item": {25: 1.0}}
    remote = spark_module.personalized_pagerank(
        spark,
        spark_module.links_frame(spark, folder),
        view.n_nodes,
        seed_sets,
        weights=AUTHORITY_WEIGHTS,
        damping=DAMPING,
        tol=1e-6,
    )
    for name, seeds in seed_sets.items():
        p = np.zeros(view.n_nodes)
        for node, weight in seeds.items():
            p[node] = weight
        local = walk.rank(personalization=p, damping=DAMPING, tol=1e-6)
        assert float(np.abs(remote[name].vector - local.vector).sum()) < 1e-6, name


def _plain(view: GraphView) -> sp.csr_matrix:
    n = view.n_nodes
    matrix = sp.csr_matrix((view.weight, (view.src, view.dst)), shape=(n, n))
    matrix.sum_duplicates()
    return matrix


def test_components_identical(spark: Any) -> None:
    # three separate work graphs side by side: three components (plus isolated nodes)
    rows_src, rows_dst, weight = [], [], []
    for block in range(3):
        view = work_graph(block, people=8, items=20, links=50)
        rows_src += (view.src + block * 100).tolist()
        rows_dst += (view.dst + block * 100).tolist()
        weight += view.weight.tolist()
    n = 300
    links = spark_module.links_from_arrays(
        spark, rows_src, rows_dst, ["cites"] * len(weight), weight
    )
    remote = spark_module.components(spark, links, n)
    local = propagation.components(sp.csr_matrix((weight, (rows_src, rows_dst)), shape=(n, n)))
    assert np.array_equal(remote, local)
    blocks = [set(local[b * 100 : b * 100 + 100].tolist()) for b in range(3)]
    assert not (blocks[0] & blocks[1]) and not (blocks[1] & blocks[2])
    assert len(blocks[0]) < 100 and local[100] == 100


def test_label_propagation_identical_and_finds_the_teams(
    spark: Any, exported: tuple[GraphView, Path]
) -> None:
    view, _ = exported
    matrix = _plain(view)
    coo = matrix.tocoo()
    links = spark_module.links_from_arrays(spark, coo.row, coo.col, ["cites"] * coo.nnz, coo.data)
    for seed in (3,):
        local = propagation.label_propagation(matrix, seed=seed, max_rounds=6)
        remote = spark_module.label_propagation(spark, links, view.n_nodes, seed=seed, max_rounds=6)
        assert np.array_equal(remote, local), seed
    assert 1 < len(set(local.tolist())) < view.n_nodes // 2


def test_bad_seed_set_is_a_clear_error(spark: Any, exported: tuple[GraphView, Path]) -> None:
    from knotwork.errors import InputError

    view, folder = exported
    with pytest.raises(InputError, match="seed set empty"):
        spark_module.personalized_pagerank(
            spark,
            spark_module.links_frame(spark, folder),
            view.n_nodes,
            {"empty": {3: 0.0}},
            weights=AUTHORITY_WEIGHTS,
        )


def test_not_an_export_is_a_clear_error(spark: Any, tmp_path: Path) -> None:
    from knotwork.errors import InputError

    with pytest.raises(InputError, match=r"no meta\.json"):
        spark_module.links_frame(spark, tmp_path)
