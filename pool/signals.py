"""What the pool tells the apps above it (docs/architecture.md, "Events between apps"). Sent from inside the
service's transaction; receivers return a dict of counts.

- ``customers_left_pool``: customers were claimed or assigned out of the pool. Keyword ``moves``: {customer id:
  the RM's ``Staff``}; ``keepers``: {customer id: the keeper's staff id who held them, or None}.
- ``customers_entered_pool``: customers were released back into their outlet's pool. Keyword ``previous``:
  {customer id: the RM's staff id who held them}; ``keepers``: {customer id: the keeper's staff id now, or None}.
"""

from django.dispatch import Signal

customers_left_pool = Signal()
customers_entered_pool = Signal()
