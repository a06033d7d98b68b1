"""What tasks add to the pages of the apps below: the 任务 section of Today (reminders)."""

from reminders.panels import today

from .selectors import tasks_open_for


@today.register
def today_tasks_panel(request, staff) -> dict:
    """The open tasks of the member of staff whose Today it is, with their first few customers."""
    return {"today_tasks": tasks_open_for(staff) if staff is not None else []}
