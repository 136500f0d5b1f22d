"""The three questions on a small history: who should talk, who is owed, what to read."""

from __future__ import annotations

from knotwork.graph.sample import commit_record, store_of
from knotwork.graph.view import cached_view
from knotwork.model import Record
from knotwork.services.me import me
from knotwork.services.native import need
from knotwork.services.questions import owe, questions, ties, who_to_talk_to

DAY = 86_400
T = 1_700_000_000


def _history() -> list[Record]:
    """Ada and Bob share the ice driver; Cy works on ice's Tx path alone; Dee on docs only."""
    return [
        commit_record(
            "a1" * 20,
            "ada@example.org",
            T - 9 * DAY,
            ["drivers/net/ice/ice.c"],
            "ice: a",
            reviews=["bob@example.org"],
        ),
        commit_record(
            "a2" * 20,
            "ada@example.org",
            T - 8 * DAY,
            ["drivers/net/ice/ice.c", "drivers/net/ice/ice_tx.c"],
            "ice: tx",
        ),
        commit_record(
            "c1" * 20, "cy@example.org", T - 7 * DAY, ["drivers/net/ice/ice_tx.c"], "ice: tx fix"
        ),
        commit_record("d1" * 20, "dee@example.org", T - 6 * DAY, ["doc/guide.rst"], "doc"),
        commit_record(
            "b1" * 20, "bob@example.org", T - 5 * DAY, ["drivers/net/ice/ice.c"], "ice: b"
        ),
    ]


def _reference_talk_to(records: list[Record], person: str) -> set[str]:
    """Plain reference: people two steps away (sharing a file, not an item) from ``person``."""
    files: dict[str, set[str]] = {}
    items: dict[str, set[str]] = {}
    for r in records:
        people = {n.key for n in r.nodes if n.kind == "person"}
        paths = {n.key for n in r.nodes if n.kind == "file"}
        for p in people:
            files.setdefault(p, set()).update(paths)
            items.setdefault(p, set()).add(r.place)
    return {
        p
        for p in files
        if p != person and files[p] & files[person] and not items[p] & items[person]
    }


def test_who_to_talk_to_finds_people_near_my_work_but_not_my_ties() -> None:
    records = _history()
    store = store_of(records)
    view = cached_view(store)
    ada = view.index_of(next(n.id for n in records[0].nodes if n.key == "ada@example.org"))
    assert {view.keys[p] for p in ties(view, ada)} == {"bob@example.org"}
    got = [r["key"] for r in who_to_talk_to(view, int(view.ids[ada]))]
    assert set(got[:1]) == _reference_talk_to(records, "ada@example.org") == {"cy@example.org"}
    assert "bob@example.org" not in got and "dee@example.org" not in got
    assert "ice" in who_to_talk_to(view, int(view.ids[ada]))[0]["reason"]


def test_owe_lists_people_on_what_i_changed_and_need_to_know_lists_open_needs() -> None:
    store = store_of(_history())
    view = cached_view(store)
    cy = next(p for p in range(view.n_nodes) if view.keys[p] == "cy@example.org")
    owed = [r["key"] for r in owe(view, int(view.ids[cy]))]
    assert owed and set(owed) <= {"ada@example.org", "bob@example.org"}
    assert "ada@example.org" in owed
    wanted = need(store, "ada@example.org", "ice tx path review", now=T)
    answers = questions(store, "cy@example.org")
    assert [n["id"] for n in answers["need_to_know"]["needs"]] == [wanted]
    assert "questions" in me(store, "cy@example.org")
