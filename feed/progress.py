"""A load's progress while it runs, for the page that polls it. The load runs in one transaction, so its row in
``Load`` cannot show the counts until it commits: the counts go to the cache instead. Without a cache (or with it
down) the page shows the last saved state."""

import logging

from django.core.cache import cache

from .models import Load

log = logging.getLogger(__name__)
TIMEOUT = 24 * 3600


def _key(load_id: int) -> str:
    return f"feed:progress:{load_id}"


def write(load, *, phase: str, rows_read: int | None = None, rows_rejected: int | None = None) -> None:
    if load.pk is None:
        return
    value = {
        "phase": phase,
        "rows_read": load.rows_read if rows_read is None else rows_read,
        "rows_loaded": load.rows_loaded,
        "rows_rejected": load.rows_rejected if rows_rejected is None else rows_rejected,
    }
    try:
        cache.set(_key(load.pk), value, TIMEOUT)
    except Exception:  # the cache being down must not stop a load  # noqa: BLE001
        log.warning("feed: progress of load %s not recorded (cache unavailable)", load.pk)


def read(load_id: int) -> dict:
    try:
        value = cache.get(_key(load_id))
    except Exception:  # noqa: BLE001
        value = None
    if value:
        return value
    load = Load.objects.filter(pk=load_id).only("status", "rows_read", "rows_loaded", "rows_rejected").first()
    if load is None:
        return {"phase": "", "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0}
    return {
        "phase": load.status,
        "rows_read": load.rows_read,
        "rows_loaded": load.rows_loaded,
        "rows_rejected": load.rows_rejected,
    }
