"""The Django cache of a test run on Redis (tests/conftest.py switches to it when REDIS_URL is set).

The same Redis database holds the Celery broker's queues, and, under pytest-xdist, the cache of every worker
process, each worker with its own test database. Each worker keeps its keys under its own prefix, so that one
worker never reads another's cached sums, and clearing the cache deletes only those keys instead of the whole
database (``RedisCache.clear`` is ``FLUSHDB``), so that it drops neither the other worker's keys nor a queued
task of the worker-kill test. Like the site's cache (crm_site/cache.py), it answers a miss while Redis is
unreachable."""

from crm_site.cache import ResilientRedisCache


class WorkerRedisCache(ResilientRedisCache):
    def clear(self):
        return self._guarded(self._clear_own_keys, False)

    def _clear_own_keys(self):
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return True
