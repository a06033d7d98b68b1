"""What the dashboards tell the apps above them (docs/architecture.md, "Events between apps")."""

from django.dispatch import Signal

# Sent at the end of a figures build, inside its transaction, with ``days``: the list of days built. Receivers
# read the rows just written (BranchDayFigures, RmDayFigures) and return a dict of counts.
figures_built = Signal()
