import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.figures import figures_rebuild
from demo.complaints import seed_complaints
from demo.customers import seed_customers
from demo.organisation import demo_logins, rms_for_customers, seed_organisation, seed_visit_plans


class Command(BaseCommand):
    help = "Create realistic demo data (idempotent, deterministic for a seed) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="number of demo customers (default 2,000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")
        parser.add_argument("--password", default=settings.DEMO_PASSWORD, help="password of every demo login")
        parser.add_argument("--show-logins", action="store_true", help="only print the demo logins")
        parser.add_argument(
            "--figure-days",
            type=int,
            default=90,
            help="build the dashboards' daily figures for this many days up to yesterday (default 90; 0: none)",
        )

    def handle(
        self, *args, customers: int, seed: int, password: str, show_logins: bool, figure_days: int = 90, **options
    ):
        if show_logins:
            self._print_logins(demo_logins(), password)
            return
        started = time.monotonic()
        logins = seed_organisation(password=password, seed=seed, rms=rms_for_customers(customers))
        self.stdout.write(f"  organisation: {time.monotonic() - started:.1f} s")
        step = time.monotonic()
        written = seed_customers(n=customers, seed=seed, out=self.stdout.write)
        self.stdout.write(f"  customers: {written} in {time.monotonic() - step:.1f} s")
        step = time.monotonic()
        plans = seed_visit_plans(seed=seed)
        self.stdout.write(f"  visit plans: {plans} in {time.monotonic() - step:.1f} s")
        step = time.monotonic()
        complaints = seed_complaints(seed=seed, customers=customers)
        self.stdout.write(f"  complaints: {complaints} in {time.monotonic() - step:.1f} s")
        if figure_days > 0:
            step = time.monotonic()
            yesterday = timezone.localdate() - timedelta(days=1)
            runs = figures_rebuild(since=yesterday - timedelta(days=figure_days - 1), until=yesterday)
            self.stdout.write(f"  dashboard figures: {len(runs)} days in {time.monotonic() - step:.1f} s")
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")) + f" ({time.monotonic() - started:.1f} s)")
        self._print_logins(logins, password)

    def _print_logins(self, logins, password):
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.role} · {login.name} · {login.branch}")
