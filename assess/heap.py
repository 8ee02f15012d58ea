"""The cyclic garbage collector paused around work that makes many objects and keeps them.

Loading a round's tables or laying out a PDF makes hundreds of thousands of objects that
live on (the tables) or die all at once (the boxes of a layout). Each few hundred new
objects trigger a collection, and the older generations' collections scan the whole heap
and find little: a fifth of a round's load time, a tenth of a render's. Whatever cycles
the work leaves are collected after it, when the collector runs again: memory stays flat
(``benchmarks/scorecards.py`` shows it).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def no_collection() -> Iterator[None]:
    """The collector paused for the ``with`` block (left as it was: nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_collection(function: Callable[P, T]) -> Callable[P, T]:
    """``function`` run with the collector paused."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with no_collection():
            return function(*args, **kwargs)

    return run
