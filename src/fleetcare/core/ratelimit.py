"""Per-client rate limiting for public endpoints.

An in-memory sliding-window counter: the current and previous fixed windows are weighted by how
far into the current window we are, which is close to a true sliding window at the cost of two
integers per key. Written by hand because the limiter libraries on PyPI pull in their own
storage layers and decorators; this is the whole algorithm. With several API workers each keeps
its own counts, so the effective limit is N times the setting; put the limit at the load
balancer as well when running at scale.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self, limit: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (window index, count in that window, count in the window before)
        self._counts: dict[str, tuple[int, int, int]] = {}
        self._last_sweep = 0

    def hit(self, key: str) -> int | None:
        """Count one request; return None if allowed, else the seconds to wait."""
        now = self._clock()
        index = int(now // self.window)
        elapsed = (now % self.window) / self.window
        with self._lock:
            if index != self._last_sweep:
                self._sweep(index)
            window, current, previous = self._counts.get(key, (index, 0, 0))
            if window != index:
                previous = current if window == index - 1 else 0
                current = 0
            estimate = previous * (1.0 - elapsed) + current
            if estimate + 1 > self.limit:
                self._counts[key] = (index, current, previous)
                return max(1, math.ceil((1.0 - elapsed) * self.window))
            self._counts[key] = (index, current + 1, previous)
            return None

    def _sweep(self, index: int) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] >= index - 1}
        self._last_sweep = index
