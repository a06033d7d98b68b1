"""The hand-built data set of the dashboards tests (the ``data`` fixture, tests/dashboards/conftest.py): its day,
the morning after, and the helpers that build its rows."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from complaints.models import Complaint, ComplaintCategory
from customers.models import Customer
from reminders.models import FollowUp

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 9)  # the day whose figures are built
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=SH)  # the morning after


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def created(customer, when: datetime) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(created_at=when)
    customer.refresh_from_db()
    return customer


def follow_up(customer, staff, *, kind="manual", due_on, status="open", created_at=None, completed_at=None, **extra):
    return FollowUp.objects.create(
        customer=customer,
        staff=staff,
        kind=kind,
        due_on=due_on,
        title="t",
        dedupe_key=f"test:{FollowUp.objects.count()}:{kind}:{due_on}",
        status=status,
        created_at=created_at or at(DAY - timedelta(days=10)),
        completed_at=completed_at,
        **extra,
    )


def complaint(org, branch, *, received, due, subject=None, status="in_progress", **extra):
    category = ComplaintCategory.objects.order_by("pk").first()
    return Complaint.objects.create(
        reference=f"TS{Complaint.objects.count():05d}",
        complainant_name="投诉人",
        branch=branch,
        subject_staff=subject,
        channel=Complaint.Channel.COUNTER,
        received_at=received,
        category=extra.pop("category", category),
        request="r",
        facts="f",
        registered_by=org.west_officer,
        clock_started_at=received,
        due_at=due,
        status=status,
        **extra,
    )
