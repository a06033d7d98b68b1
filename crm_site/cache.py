"""The Django cache on Redis, degrading to a miss when Redis is unreachable.

Nothing the site keeps in the cache is the only copy: the dashboards' sums and the figures' version are computed
again from the database, a load's progress falls back to its row. So an unreachable Redis must cost a page its
cache, never the page: ``get`` answers the default, ``get_many`` nothing, ``set`` does nothing,
``add``/``touch``/``delete`` do nothing and answer ``False``, ``incr`` finds no key.

A Redis that is *hung* (the process stopped, a dead host behind a half-open connection) answers nothing at all,
so every call would wait for the socket timeout. The timeouts are short (``socket_connect_timeout`` and
``socket_timeout`` in the cache's ``OPTIONS``, 0.2 s in settings.py) and redis-py does not retry. After a failure
the process stops asking Redis for ``breaker_seconds`` (an option of this backend, 5 s by default) and answers
every call as a miss at once; then one call tries again. An outage is logged once when it starts and once when it
ends, not on every call.

tests/crm_site/test_outage.py runs the site against a real Redis server that it stops and hangs.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("crm_site.cache")

# What an unreachable or failing Redis raises: redis-py's own errors (ConnectionError, TimeoutError, a server
# error such as a read-only replica or an out-of-memory refusal), and a socket error that escaped them.
UNAVAILABLE = (RedisError, OSError)


class _Breaker:
    """Whether this process should ask a Redis server now. Shared by the threads of a process (Django keeps one
    cache object per thread), keyed by the server's location."""

    _lock = threading.Lock()
    _states: dict[str, "_Breaker"] = {}

    def __init__(self, location: str, seconds: float) -> None:
        self.location = location
        self.seconds = seconds
        self.skip_until = 0.0  # time.monotonic() until which Redis is not asked
        self.down_since: float | None = None  # wall time of the first failure of the current outage

    @classmethod
    def of(cls, location: str, seconds: float) -> "_Breaker":
        with cls._lock:
            breaker = cls._states.get(location)
            if breaker is None:
                breaker = cls._states[location] = cls(location, seconds)
            breaker.seconds = seconds
            return breaker

    @classmethod
    def reset_all(cls) -> None:
        with cls._lock:
            for breaker in cls._states.values():
                breaker.skip_until, breaker.down_since = 0.0, None

    def closed(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self.skip_until = time.monotonic() + self.seconds
            first = self.down_since is None
            if first:
                self.down_since = time.time()
        if first:
            logger.warning(
                "cache unreachable (%s: %s): serving without it, trying again every %.0f s",
                type(exc).__name__,
                exc,
                self.seconds,
            )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            logger.warning("cache reachable again after %.1f s", time.time() - since)


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, answering a miss instead of raising while Redis is unreachable (module docstring)."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        seconds = float(options.pop("breaker_seconds", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        self._breaker = _Breaker.of("|".join(self._servers), seconds)

    def _guarded(self, call, fallback):
        if not self._breaker.closed():
            return fallback
        try:
            result = call()
        except UNAVAILABLE as exc:
            self._breaker.failed(exc)
            return fallback
        self._breaker.succeeded()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key, default=None, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._guarded(lambda: super(ResilientRedisCache, self).incr(key, delta, version), missing)
        if value is missing:
            raise ValueError(f"Key '{key}' not found")  # as for a key that is not there
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that were not stored.
        return self._guarded(lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self):
        return self._guarded(lambda: super(ResilientRedisCache, self).clear(), False)


def reset_breakers() -> None:
    """Forget every outage this process has seen: Redis is asked again at the next call (tests)."""
    _Breaker.reset_all()
