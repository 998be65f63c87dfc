"""Shared pieces of the hostile-input suite: prose of a given size and a timer.

Every budget in this suite is a ratio against prose of the same size measured in
the same test, never an absolute time: the machine may be slow or busy.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SENTENCES = (
    "The government said on {day} that talks with union leaders in Paris would resume.",
    "Shares of Acme Corp rose {n}.5 percent after the company reported a quarterly profit.",
    "Prime Minister Jane Holloway told reporters in London the budget would come in March.",
    "Officials in Nairobi said heavy rain had closed roads across western Kenya for {n} days.",
    "The central bank left its main rate at 3.{n} percent, citing slower growth in Germany.",
    "Police in Sydney arrested two men after a fire at a warehouse near the harbour on {day}.",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def prose(size: int) -> str:
    """English news prose of exactly ``size`` characters."""
    parts: list[str] = []
    length = 0
    index = 0
    while length < size:
        sentence = SENTENCES[index % len(SENTENCES)].format(
            day=DAYS[index % len(DAYS)], n=index % 97
        )
        parts.append(sentence + (" " if index % 7 else "\n\n"))
        length += len(parts[-1])
        index += 1
    return "".join(parts)[:size]


def best_time(action: Callable[[], object], runs: int = 2) -> float:
    """The shortest of ``runs`` timings of ``action`` (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best
