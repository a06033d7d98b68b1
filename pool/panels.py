"""What the pool shows on the pages of the apps below it (registered in ``PoolConfig.ready``)."""

# Release
from relationships.panels import ApprovalCard, approvals

from .selectors import release_pending_count


@approvals.register
def release_approvals(request, staff) -> dict:
    """待我审批: how many release proposals of the head's subtree await their decision, with the link to them."""
    return {"pool_releases": ApprovalCard("pool/partials/_release_approvals.html", release_pending_count(staff), {})}
