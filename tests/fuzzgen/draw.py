"""Deterministic examples from a Hypothesis strategy, outside a Hypothesis test."""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

T = TypeVar("T")


def examples(strategy: st.SearchStrategy[T], count: int, at: int = 0) -> list[T]:
    """Up to `count` examples of `strategy`, the same ones on every run for the same `at` seed. The first is the
    simplest Hypothesis can make."""
    drawn: list[T] = []

    @seed(at)
    @settings(
        database=None,
        max_examples=count,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
        derandomize=at == 0,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def simplest(strategy: st.SearchStrategy[T]) -> T:
    return examples(strategy, 1)[0]
