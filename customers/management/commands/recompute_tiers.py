import time

from django.core.management.base import BaseCommand

from customers.services import customers_recompute_tiers


class Command(BaseCommand):
    help = "Reassign every customer's tier from current AUM (the nightly job, run now)."

    def handle(self, *args, **options):
        started = time.monotonic()
        changed = customers_recompute_tiers()
        self.stdout.write(f"tier changes: {changed} in {time.monotonic() - started:.1f} s")
