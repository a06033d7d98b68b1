from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from relationships.demo import demo_logins, seed_organisation


class Command(BaseCommand):
    help = "Create realistic demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")
        parser.add_argument("--password", default=settings.DEMO_PASSWORD, help="password of every demo login")
        parser.add_argument("--show-logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, seed: int, password: str, show_logins: bool, **options):
        if show_logins:
            logins = demo_logins()
        else:
            logins = seed_organisation(password=password, seed=seed)
            self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.role} · {login.name} · {login.branch}")
