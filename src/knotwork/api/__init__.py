"""The REST API: one FastAPI app over the services (see :func:`create_app` and ``docs/api.md``).

Routers are thin, one module per resource; :mod:`~knotwork.api.auth` authenticates,
:mod:`~knotwork.api.policy` authorises, :mod:`~knotwork.api.errors` maps errors and
:mod:`~knotwork.api.limits` bounds resources.
"""

from __future__ import annotations

from knotwork.api.app import create_app

__all__ = ["create_app"]
