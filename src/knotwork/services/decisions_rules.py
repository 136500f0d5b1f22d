"""Outcome rules per kind of proposal (after Loomio's poll types).

* ``consent``: answers ``agree``, ``abstain``, ``disagree``, ``block``; one block stops it,
  else it passes when agreements are at least disagreements.
* ``vote``: one option each (default ``yes``/``no``); an option with more than half of the
  votes that are not ``abstain`` wins, else there is no majority.
* ``score``: ``option=score`` pairs (0 to 5); the best mean score wins.
* ``ranked``: options in order of preference (``a>b>c``); instant run-off.

>>> outcome("consent", [], ["agree", "agree", "disagree"])["result"]
'passed'
>>> outcome("consent", [], ["agree", "block"])["result"]
'blocked'
>>> outcome("ranked", ["a", "b", "c"], ["a>b", "b>a", "c>b", "b"])["result"]
'b'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from knotwork.errors import InputError

KINDS = ("consent", "vote", "score", "ranked")
CONSENT = ("agree", "abstain", "disagree", "block")
DEFAULT_OPTIONS = {"consent": list(CONSENT), "vote": ["yes", "no"]}


def options_for(kind: str, options: Sequence[str]) -> list[str]:
    """The options of a proposal of ``kind`` (checked).

    >>> options_for("vote", [])
    ['yes', 'no']
    """
    if kind not in KINDS:
        raise InputError("a proposal kind is consent, vote, score or ranked", place=kind)
    if kind == "consent":
        return list(CONSENT)
    chosen = [o.strip() for o in options if o.strip()] or DEFAULT_OPTIONS.get(kind, [])
    if len(chosen) < 2 or len(set(chosen)) != len(chosen):
        raise InputError("a proposal needs two or more distinct options", place=",".join(chosen))
    return chosen


def check(kind: str, options: Sequence[str], choice: str) -> str:
    """``choice`` normalised, or ``InputError`` when it does not fit the proposal.

    >>> check("score", ["a", "b"], "b=4, a=1")
    'a=1,b=4'
    """
    text = choice.strip()
    if kind in ("consent", "vote"):
        if text == "abstain" or text in options:
            return text
        raise InputError("expected one of " + ", ".join(options), place=choice)
    if kind == "score":
        scores = _scores(text)
        if not scores or not set(scores) <= set(options):
            raise InputError("expected option=score pairs for " + ", ".join(options), place=choice)
        if any(not 0 <= v <= 5 for v in scores.values()):
            raise InputError("scores go from 0 to 5", place=choice)
        return ",".join(f"{k}={v:g}" for k, v in sorted(scores.items()))
    ranking = [o.strip() for o in text.split(">") if o.strip()]
    if not ranking or len(set(ranking)) != len(ranking) or not set(ranking) <= set(options):
        raise InputError("expected a ranking such as a>b>c of " + ", ".join(options), place=choice)
    return ">".join(ranking)


def _scores(text: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            result[name.strip()] = float(value)
        except ValueError:
            raise InputError("expected option=score", place=part) from None
    return result


def outcome(kind: str, options: Sequence[str], choices: Sequence[str]) -> dict[str, Any]:
    """The result of the (latest) ``choices`` under the rule of ``kind``."""
    if kind == "consent":
        counts = Counter(choices)
        if counts["block"]:
            result = "blocked"
        elif counts["agree"] and counts["agree"] >= counts["disagree"]:
            result = "passed"
        else:
            result = "not passed"
        return {"result": result, "counts": {o: counts[o] for o in CONSENT}}
    if kind == "vote":
        counts = Counter(choices)
        cast = sum(v for k, v in counts.items() if k != "abstain")
        best = max(options, key=lambda o: (counts[o], -options.index(o)))
        won = cast > 0 and counts[best] * 2 > cast
        return {
            "result": best if won else "no majority",
            "counts": {o: counts[o] for o in [*options, "abstain"]},
        }
    if kind == "score":
        totals: dict[str, list[float]] = {o: [] for o in options}
        for choice in choices:
            for name, value in _scores(choice).items():
                totals[name].append(value)
        means = {o: (sum(v) / len(v) if v else 0.0) for o, v in totals.items()}
        best = max(options, key=lambda o: (means[o], -options.index(o)))
        return {"result": best if choices else "no answers", "means": means}
    return _runoff(list(options), [c.split(">") for c in choices])


def _runoff(options: list[str], ballots: list[list[str]]) -> dict[str, Any]:
    left = list(options)
    rounds = []
    while left:
        firsts = Counter(next((o for o in b if o in left), None) for b in ballots)
        firsts.pop(None, None)
        counts = {o: firsts[o] for o in left}
        rounds.append(counts)
        total = sum(counts.values())
        if total == 0:
            return {"result": "no answers", "rounds": rounds}
        best = max(left, key=lambda o: (counts[o], -options.index(o)))
        if counts[best] * 2 > total or len(left) == 1:
            return {"result": best, "rounds": rounds}
        worst = min(left, key=lambda o: (counts[o], -options.index(o)))
        left.remove(worst)
    return {"result": "no answers", "rounds": rounds}  # pragma: no cover


__all__ = ["CONSENT", "KINDS", "check", "options_for", "outcome"]
