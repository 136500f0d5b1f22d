"""``/api/v1/graph``: the map of who works with whom, for the web app's graph page.

Positions are computed on the server (:mod:`knotwork.services.graphmap`); the answer is
compact (one array per column). Everyone may call it; what each role sees follows the
privacy rules: sizes (authority) for admins only, small groups unnamed, opted-out people
left out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from knotwork.api.auth import Caller, StoreDep
from knotwork.api.policy import ADMIN

router = APIRouter(prefix="/api/v1", tags=["graph"])
AsOf = Annotated[int | None, Query(ge=0, le=2**40, description="Unix seconds.")]
Source = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Links of this source only.")
]


@router.get("/graph", response_class=JSONResponse)
def graph(
    request: Request, store: StoreDep, caller: Caller, as_of: AsOf = None, source: Source = None
) -> JSONResponse:
    """People placed on a plane with their ties, coloured by emergent group (see
    :func:`knotwork.services.graphmap.graph_map`). The answer is plain lists of numbers and
    strings, serialised as they are (a large map holds hundreds of thousands of numbers)."""
    from knotwork.services.graphmap import graph_map

    answer: dict[str, Any] = graph_map(
        store,
        as_of=as_of,
        source=source,
        k_min=request.app.state.settings.k_min,
        admin=caller.role == ADMIN,
        me=caller.person,
    )
    return JSONResponse(answer)


__all__ = ["router"]
