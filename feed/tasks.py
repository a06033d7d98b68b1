from celery import shared_task

from . import (
    chain,  # noqa: F401 - registers the chain's steps with the worker
    inbox,
    loader,
)


@shared_task
def scan_inbox() -> list[dict]:
    return [{"file": load.file_name, "status": load.status} for load in inbox.scan()]


@shared_task
def run_load(load_id: int) -> str:
    """Load an uploaded file (its Load row is queued with the stored path)."""
    load = loader.load_queued(load_id)
    return load.status if load is not None else "taken"
