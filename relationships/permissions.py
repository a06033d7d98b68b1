"""What a member of staff may do in the RM's work with a customer: the 360° page's buttons ask these, and the
services check the same predicates of ``organisation.access`` again."""

from organisation import access
from organisation.models import Staff


def customer_actions(user, customer) -> dict:
    """What the user may do on a customer's 360° page."""
    staff = access.active_staff(user)
    if staff is None:
        return {}
    own = customer.primary_rm_id == staff.pk
    return {
        "can_log": staff.role in access.PORTFOLIO_ROLES,
        # A rating is recorded after a callback by someone other than the RM rated.
        "can_rate": not own and customer.primary_rm_id is not None,
        "can_request_move": (staff.role == Staff.Role.RM and own) or staff.role in access.HEADS_AND_ADMINS,
        "can_add_secondary": access.can_approve(staff, customer.branch),
    }
