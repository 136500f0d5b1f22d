"""Settings, read once at the edge (CLI, API) from ``KNOTWORK_*`` environment variables.

>>> s = Settings.from_env({"KNOTWORK_DATABASE_URL": "sqlite:///tmp/k.db"})
>>> s.database_url
'sqlite:///tmp/k.db'
>>> Settings.from_env({}).database_url
'sqlite:///knotwork.db'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from knotwork.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///knotwork.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """What can be configured.

    ``database_url``: ``sqlite:///path`` or ``postgresql://...`` (``KNOTWORK_DATABASE_URL``).
    ``bot_patterns``: regular expressions that mark an author as a bot, matched against
    ``name <email>`` (``KNOTWORK_BOT_PATTERNS``, separated by ``;``); empty means the defaults.
    ``jobs``: git processes run in parallel during ingest (``KNOTWORK_JOBS``; 0 = one per core).
    ``k_min``: the fewest people an aggregate may describe (``KNOTWORK_K_MIN``; default 5, at
    least 3, see :mod:`knotwork.services.privacy`).
    """

    database_url: str = DEFAULT_DATABASE_URL
    bot_patterns: tuple[str, ...] = ()
    jobs: int = 0
    k_min: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        patterns = tuple(p for p in env.get("KNOTWORK_BOT_PATTERNS", "").split(";") if p)
        jobs_text = env.get("KNOTWORK_JOBS", "0") or "0"
        try:
            jobs = int(jobs_text)
        except ValueError:
            raise ConfigError(
                f"expected a whole number, got {jobs_text!r}", place="KNOTWORK_JOBS"
            ) from None
        k_text = env.get("KNOTWORK_K_MIN", "5") or "5"
        try:
            k_min = int(k_text)
        except ValueError:
            raise ConfigError(
                f"expected a whole number, got {k_text!r}", place="KNOTWORK_K_MIN"
            ) from None
        if k_min < 3:
            raise ConfigError(
                f"must be at least 3 (fewer people would be identifiable), got {k_min}",
                place="KNOTWORK_K_MIN",
            )
        return cls(
            database_url=env.get("KNOTWORK_DATABASE_URL") or DEFAULT_DATABASE_URL,
            bot_patterns=patterns,
            jobs=jobs,
            k_min=k_min,
        )


__all__ = ["DEFAULT_DATABASE_URL", "Settings"]
