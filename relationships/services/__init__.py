"""Writes of the relationships app, by area. Import from here: ``from relationships import services``."""

from .contact import (  # noqa: F401
    interaction_log,
    interaction_update,
    rating_record,
    visit_plan_cancel,
    visit_plan_create,
    visit_plan_create_and_submit,
    visit_plan_report,
    visit_plan_review,
    visit_plan_submit,
    visit_plan_update,
)
from .portfolio import (  # noqa: F401
    assignment_add_secondary,
    assignment_end_secondary,
    assignment_open_primary,
    assignment_release_primary,
    assignments_open_primary_bulk,
    handover_approve,
    handover_assign,
    handover_distribute,
    handover_reject,
    handover_start,
    handover_submit,
    reassignment_approve,
    reassignment_cancel,
    reassignment_reject,
    reassignment_request,
    split_customers,
    staff_mark_leaving,
)
