"""Compiled rules cached by the identity of the immutable record part they were built from.

Hashing a frozen record dataclass walks all of it, which costs more than evaluating the rule
(~10 µs for an NVD record with ten configurations). The engine passes the same record objects
over and over, so the object's identity is tried first; a new but equal object still finds the
rule in the equality cache behind it. Each entry keeps its key alive, so an `id` cannot be reused
while it is stored. Shared by `ranges.compile_affected` and `cpe.compile_cpe_rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    __slots__ = ("_build", "_entries", "_limit")

    def __init__(self, build: Callable[[K], V], limit: int) -> None:
        self._build = build
        self._limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        hit = self._entries.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        value = self._build(key)
        if len(self._entries) >= self._limit:
            self._entries.clear()  # crude, but a full re-match rebuilds it in one pass
        self._entries[id(key)] = (key, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
