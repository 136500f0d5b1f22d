"""Seeded mutations of JSON values, for fuzzing the chat parsers without extra packages."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

ODD: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "\x00", "\ud800", "‮rtl 🚀"]
ODD += [[], {}, [None], {"a": 1}]


def mutate(value: Any, rng: random.Random) -> Any:
    """``value`` with one random part replaced, dropped, or its type changed."""
    value = copy.deepcopy(value)
    if not isinstance(value, (dict, list)) or not value or rng.random() < 0.1:
        return rng.choice(ODD)
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    nested = [k for k in keys if isinstance(value[k], (dict, list)) and value[k]]
    key: Any = rng.choice(nested if nested and rng.random() < 0.7 else keys)
    roll = rng.random()
    if roll < 0.2 and isinstance(value, dict):
        del value[key]
    elif roll < 0.6:
        value[key] = mutate(value[key], rng)
    else:
        value[key] = rng.choice(ODD)
    return value


def mutations(samples: list[Any], count: int, seed: int = 5) -> Iterator[Any]:
    """``count`` mutants of the samples (mutated one to three times each)."""
    rng = random.Random(seed)
    for _ in range(count):
        value = rng.choice(samples)
        for _ in range(rng.randint(1, 3)):
            value = mutate(value, rng)
        yield value
