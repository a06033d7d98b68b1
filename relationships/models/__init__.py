"""The relationships app's models, one context a module: portfolios and contact work."""

from .contact import Interaction, SatisfactionRating, VisitPlan, VisitPlanItem  # noqa: F401
from .portfolio import (  # noqa: F401
    Assignment,
    AssignmentQuerySet,
    Handover,
    HandoverItem,
    ReassignmentItem,
    ReassignmentRequest,
)
