"""A client-side rate limiter shared by every thread of one scan (Sakura publishes no limit, but asks
clients not to burst; its own SDKs pace at 5 requests per second).

Token bucket: ``rate`` tokens per second, at most ``burst`` stored. :meth:`RateLimiter.acquire` takes one
token, sleeping until one is available. ``rate <= 0`` disables pacing (``acquire`` returns at once). The
clock and sleep are injectable so tests measure pacing without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe token bucket. ``rate``: requests per second (``0`` = off); ``burst``: bucket size (>= 1).

    Each caller reserves its slot under the lock and sleeps outside it, so waiting threads queue in
    arrival order and the sustained rate never exceeds ``rate``.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
        #: Seconds spent waiting in :meth:`acquire`, summed over all threads (for the benchmark).
        self.waited = 0.0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self) -> float:
        """Take one token; returns the seconds this call waited (0.0 when a token was ready)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait
