"""Remember which Events API deliveries were handled, so a retry is a no-op."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

#: Slack retries a delivery three times within about an hour.
DEFAULT_TTL_SECONDS = 2 * 60 * 60


class RecentIds:
    """``event_id``s seen in the last ``ttl`` seconds, in this process's memory.

    One process is enough for Slack's retries (they go to the same app URL
    and, behind one replica, to this process). With several replicas behind a
    load balancer a retry may reach another replica; then a handler must be
    idempotent on its own (the core's stores are keyed by Slack ts where it
    matters). ``first_time`` is synchronous, so two concurrent deliveries of
    one event on the event loop cannot both win.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        max_size: int = 100_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._now = now
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen within the TTL (and records it)."""
        now = self._now()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self.ttl and len(self._seen) < self.max_size:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True
