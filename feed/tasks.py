from pathlib import Path

from celery import shared_task

from organisation.access import SYSTEM

from . import (
    chain,  # noqa: F401 - registers the chain's steps with the worker
    inbox,
    loader,
)
from .models import Load


@shared_task
def scan_inbox() -> list[dict]:
    return [{"file": load.file_name, "status": load.status} for load in inbox.scan()]


@shared_task
def run_load(load_id: int) -> str:
    """Load an uploaded file (its Load row is queued with the stored path)."""
    load = Load.objects.filter(pk=load_id, status=Load.Status.QUEUED).select_related("created_by").first()
    if load is None:
        return "gone"
    loaded = loader.load_file(
        Path(load.path),
        kind=load.kind,
        business_date=load.business_date,
        actor=load.created_by or SYSTEM,
        source=Load.Source.UPLOAD,
        control=False,
        load=load,
    )
    return loaded.status
