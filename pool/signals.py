"""What the pool tells the apps above it (docs/architecture.md, "Events between apps"). Sent from inside the
service's transaction; receivers return a dict of counts.

- ``customers_left_pool``: customers were claimed or assigned out of the pool. Keyword ``moves``: {customer id:
  the RM's ``Staff``}; ``keepers``: {customer id: the keeper's staff id who held them, or None}.
- ``customers_entered_pool``: customers were released back into their outlet's pool. Keyword ``previous``:
  {customer id: the RM's staff id who held them}; ``keepers``: {customer id: the keeper's staff id now, or None}.
- ``pool_keeper_changed``: who keeps an outlet's pool changed (the head named someone else, or went back to
  keeping it themself). Keywords ``branch_id``: the outlet; ``old`` and ``new``: the keeper's staff id before and
  after (``keepers.keepers_of``), or None where the pool had, or now has, no keeper. Sent only when they differ.
"""

from django.dispatch import Signal

customers_left_pool = Signal()
customers_entered_pool = Signal()
pool_keeper_changed = Signal()
