import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.figures import figures_rebuild
from demo.complaints import seed_complaints
from demo.consent import seed_consent
from demo.customers import seed_customers
from demo.first_morning import seed_first_morning
from demo.marketing import seed_segments
from demo.opportunities import seed_opportunities
from demo.organisation import (
    demo_data_present,
    demo_logins,
    other_data_present,
    rms_for_customers,
    seed_organisation,
    seed_visit_plans,
)
from demo.pool import seed_pool
from demo.recycle import seed_recycle
from demo.targets import seed_targets
from demo.worktasks import seed_tasks

# Loggers that report every day or batch of a seed: shown only with -v 2.
CHATTY_LOGGERS = ("dashboards.figures", "reminders.services")


@contextmanager
def _quiet(verbosity: int):
    if verbosity >= 2:
        yield
        return
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create realistic demo data (idempotent, deterministic for a seed) and print the demo logins. "
        "Refuses a database that holds staff, branches or customers but no demo staff."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="number of demo customers (default 2,000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")
        parser.add_argument("--password", default=settings.DEMO_PASSWORD, help="password of every demo login")
        parser.add_argument("--show-logins", action="store_true", help="only print the demo logins")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only a database without demo data; with demo data, say so and print the logins",
        )
        parser.add_argument(
            "--no-logins", action="store_true", help="do not print the demo logins (make run prints them at the end)"
        )
        parser.add_argument(
            "--figure-days",
            type=int,
            default=90,
            help="build the dashboards' daily figures for this many days up to yesterday (default 90; 0: none)",
        )

    def handle(
        self,
        *args,
        customers: int,
        seed: int,
        password: str,
        show_logins: bool,
        if_empty: bool = False,
        no_logins: bool = False,
        figure_days: int = 90,
        verbosity: int = 1,
        **options,
    ):
        self.no_logins = no_logins and not show_logins
        if show_logins:
            self._print_logins(demo_logins(), password)
            return
        if demo_data_present():
            if if_empty:
                self.stdout.write(_("Demo data already exists in this database; not generated again."))
                self._print_logins(demo_logins(), password)
                return
        elif other_data_present():
            raise CommandError(
                _(
                    "This database already holds staff, branches or customers that are not demo data: "
                    "no demo data was written. Use an empty database for the demo."
                )
            )
        with _quiet(verbosity):
            self._seed(customers=customers, seed=seed, password=password, figure_days=figure_days, verbosity=verbosity)

    def _seed(self, *, customers: int, seed: int, password: str, figure_days: int, verbosity: int):
        def detail(line: str) -> None:
            if verbosity >= 2:
                self.stdout.write(line)

        started = time.monotonic()
        seed_organisation(password=password, seed=seed, rms=rms_for_customers(customers))
        self.stdout.write(_("  organisation: %(seconds).1f s") % {"seconds": time.monotonic() - started})
        step = time.monotonic()
        written = seed_customers(n=customers, seed=seed, out=detail)
        detail(f"  {written}")
        self.stdout.write(
            _("  customers: %(count)s in %(seconds).1f s")
            % {"count": written["customers"], "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        plans = seed_visit_plans(seed=seed)
        self.stdout.write(
            _("  visit plans: %(count)s in %(seconds).1f s") % {"count": plans, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        complaints = seed_complaints(seed=seed, customers=customers)
        self.stdout.write(
            _("  complaints: %(count)s in %(seconds).1f s") % {"count": complaints, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        morning = seed_first_morning(seed=seed)
        self.stdout.write(
            _("  reminders: %(count)s open, approvals: %(approvals)s waiting, in %(seconds).1f s")
            % {
                "count": sum(morning.reminders.values()),
                "approvals": morning.reassignments + morning.plans + morning.handovers,
                "seconds": time.monotonic() - step,
            }
        )
        detail(f"  {morning}")
        step = time.monotonic()
        pooled = seed_pool(seed=seed)
        self.stdout.write(
            _("  customer pool: %(claims)s claimed, %(assigned)s assigned, in %(seconds).1f s")
            % {**pooled, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        releases = seed_recycle()
        self.stdout.write(
            _("  releases to the pool: %(count)s awaiting approval, in %(seconds).1f s")
            % {"count": releases, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        tasks = seed_tasks(seed=seed)
        self.stdout.write(
            _("  tasks: %(count)s in %(seconds).1f s") % {"count": tasks, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        segments = seed_segments()
        self.stdout.write(
            _("  segments: %(count)s in %(seconds).1f s") % {"count": segments, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        opportunities = seed_opportunities(seed=seed)
        self.stdout.write(
            _("  opportunities: %(opportunities)s (%(matched)s matched to a holding) in %(seconds).1f s")
            % {**opportunities, "seconds": time.monotonic() - step}
        )
        step = time.monotonic()
        consents = seed_consent()
        self.stdout.write(
            _(
                "  marketing consent: %(consents)s consents, %(withdrawn)s withdrawn, %(windows)s do-not-disturb "
                "windows, in %(seconds).1f s"
            )
            % {**consents, "seconds": time.monotonic() - step}
        )
        if figure_days > 0:
            step = time.monotonic()
            yesterday = timezone.localdate() - timedelta(days=1)
            runs = figures_rebuild(since=yesterday - timedelta(days=figure_days - 1), until=yesterday)
            self.stdout.write(
                _("  dashboard figures: %(count)s days in %(seconds).1f s")
                % {"count": len(runs), "seconds": time.monotonic() - step}
            )
            step = time.monotonic()
            targets = seed_targets(seed=seed)
            self.stdout.write(
                _("  targets: %(count)s in %(seconds).1f s") % {"count": targets, "seconds": time.monotonic() - step}
            )
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")) + f" ({time.monotonic() - started:.1f} s)")
        self._print_logins(demo_logins(), password)

    def _print_logins(self, logins, password):
        if self.no_logins:
            return
        if not logins:
            self.stdout.write(_("This database holds no demo logins: run seed_demo to create them."))
            return
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.role} · {login.name} · {login.branch}")
