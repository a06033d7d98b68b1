"""Writes of the relationships app, by area. Import from here: ``from relationships import services``."""

from .contact import (  # noqa: F401
    follow_up_create_manual,
    interaction_log,
    interaction_update,
    notification_send,
    notifications_mark_read,
    rating_record,
    visit_plan_cancel,
    visit_plan_create,
    visit_plan_report,
    visit_plan_review,
    visit_plan_submit,
    visit_plan_update,
)
from .figures import (  # noqa: F401
    figures_build,
    figures_build_yesterday,
    figures_rebuild,
)
from .org import (  # noqa: F401
    SIGN_IN_RECORD_RETENTION,
    branch_create,
    branch_update,
    sign_in_records_purge,
    staff_create,
    staff_mark_left,
    staff_update,
)
from .portfolio import (  # noqa: F401
    assignment_add_secondary,
    assignment_end_secondary,
    assignment_open_primary,
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
    staff_mark_leaving,
)
from .reminders import (  # noqa: F401
    GENERATORS,
    digest_recipients,
    digest_send,
    follow_up_complete,
    follow_up_skip,
    follow_up_snooze,
    follow_ups_housekeeping,
    reminders_generate,
)
