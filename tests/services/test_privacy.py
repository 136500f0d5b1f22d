"""Privacy: k_min suppression, the lowest allowed k_min, and no differencing of filters."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knotwork.config import Settings
from knotwork.errors import ConfigError
from knotwork.graph.sample import sample_store
from knotwork.graph.view import GraphView
from knotwork.services.health import health, health_of_view
from knotwork.services.privacy import Ledger, check_k_min, release, release_count, safe_pair

T0 = 1_600_000_000


def test_an_aggregate_over_four_people_is_suppressed_at_k_min_five() -> None:
    figure = release(["ann", "ben", "cat", "dan"], 0.42, k_min=5)
    assert figure.suppressed and figure.value is None and figure.count == 4
    assert "fewer than k_min = 5" in figure.note
    assert release(["ann", "ben", "cat", "dan", "eve"], 0.42, k_min=5).value == 0.42
    assert release_count(4, 1.0, k_min=5).to_dict()["value"] is None


def test_health_of_four_people_shows_no_aggregate_at_k_min_five() -> None:
    nodes = [(p, "person", f"p{p}@x.org", 0) for p in range(1, 5)] + [(9, "org", "unit", 0)]
    links = [(a, b, "cites", T0, 1.0, 0) for a, b in itertools.combinations(range(1, 5), 2)]
    links += [(p, 9, "member_of", T0, 1.0, 0) for p in range(1, 5)]
    view = GraphView.from_rows(nodes, links)
    report = health_of_view(view, k_min=5)
    for name in (
        "authority_inequality",
        "degree_inequality",
        "periphery",
        "silos",
        "walls_vs_work",
    ):
        metric = report.metric(name)
        assert metric.value is None, name
        assert "suppressed" in metric.note, name
    assert report.metric("authority_inequality").details["lorenz_y"] == []
    # at k_min = 3 the same figures are shown
    shown = health_of_view(GraphView.from_rows(nodes, links), k_min=3)
    assert shown.metric("degree_inequality").value == 0.0


@pytest.mark.parametrize("k_min", [2, 1, 0, -5])
def test_k_min_below_three_is_refused(k_min: int) -> None:
    with pytest.raises(ConfigError, match="at least 3"):
        check_k_min(k_min)
    with pytest.raises(ConfigError):
        release(range(10), 1, k_min=k_min)
    with pytest.raises(ConfigError):
        Ledger(k_min=k_min)
    with pytest.raises(ConfigError):
        health(sample_store(), k_min=k_min)
    with pytest.raises(ConfigError, match="KNOTWORK_K_MIN"):
        Settings.from_env({"KNOTWORK_K_MIN": str(k_min)})


def test_k_min_setting_defaults_to_five() -> None:
    assert Settings.from_env({}).k_min == 5
    assert Settings.from_env({"KNOTWORK_K_MIN": "7"}).k_min == 7
    with pytest.raises(ConfigError):
        Settings.from_env({"KNOTWORK_K_MIN": "five"})


def test_ledger_refuses_a_filter_that_differs_by_one_person() -> None:
    ledger = Ledger(k_min=5)
    everyone = [f"p{i}" for i in range(12)]
    assert ledger.release(everyone, 40.0).value == 40.0
    # "everyone but Ann" would give Ann's value by subtraction
    assert ledger.release(everyone[1:], 38.0).suppressed
    # a half that differs from everyone by 6 people is fine
    assert ledger.release(everyone[:6], 20.0).value == 20.0


# -- property: no two released figures differ by fewer than k_min people ---------------------

people_st = st.lists(
    st.tuples(st.integers(0, 3), st.integers(1, 3)),  # (unit, level) of each person
    min_size=3,
    max_size=25,
)
filter_st = st.lists(
    st.tuples(st.frozensets(st.integers(0, 3)), st.integers(1, 3)),  # units, lowest level
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(people=people_st, filters=filter_st, k_min=st.integers(3, 6))
def test_differencing_two_filters_cannot_reveal_one_person(
    people: list[tuple[int, int]], filters: list[tuple[frozenset[int], int]], k_min: int
) -> None:
    salary = {i: 1000 + 37 * i for i in range(len(people))}
    ledger = Ledger(k_min=k_min)
    released: list[tuple[frozenset[int], int]] = []
    for units, level in filters:
        chosen = frozenset(
            i for i, (unit, lvl) in enumerate(people) if unit in units and lvl >= level
        )
        figure = ledger.release(chosen, sum(salary[i] for i in chosen))
        if figure.value is not None:
            released.append((chosen, figure.value))
    for (a, total_a), (b, total_b) in itertools.combinations(released, 2):
        assert len(a) >= k_min and len(b) >= k_min
        assert safe_pair(a, b, k_min)
        if a >= b:
            # the difference of the two totals is a sum over >= k_min people (or nothing)
            assert len(a - b) == 0 or len(a - b) >= k_min
            assert total_a - total_b == sum(salary[i] for i in a - b)
        # no one person is ever the whole difference
        for difference in (a - b, b - a):
            assert len(difference) != 1
