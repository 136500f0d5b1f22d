"""What a server computes before it serves a new view: the derived results of its most
frequent reads, so that no request waits for them (:func:`knotwork.graph.serving.serve_views`).

>>> from knotwork.graph.sample import sample_store
>>> warm_reads(sample_store())
"""

from __future__ import annotations

from knotwork.graph.view import EXPERTISE_HALF_LIFE_DAYS, cached_view
from knotwork.services.authority import top_people
from knotwork.services.expertise import DEFAULT_SETTINGS, ExpertiseIndex
from knotwork.store.engine import Store


def warm_reads(store: Store) -> None:
    """The authority ranking (rankings, profiles) and the expertise index with its text
    index (who-knows, explain, match), each on the store's current view."""
    top_people(store, limit=1)
    view = cached_view(store, half_life_days=EXPERTISE_HALF_LIFE_DAYS)
    ExpertiseIndex.of(view, DEFAULT_SETTINGS).text_index(store)


__all__ = ["warm_reads"]
