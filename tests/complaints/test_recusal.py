"""Recusal (回避) and the approval of the second extension (the Measures art. 20).

- The staff member a complaint is about takes no action on it in any role: every action × the subject as an
  officer, a head and an administrator is refused by the service and not offered on the page, while a colleague of
  the same role and reach may take it (so each case can fail).
- The second extension is approved by a higher-level institution than the complaint's branch or by head office:
  never by a head or officer of the branch itself, nor by the handler or whoever asked for it.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import permissions, selectors, services, views
from complaints.models import Complaint, ComplaintExtension
from organisation.models import Staff
from tests.factories import StaffFactory

from .conftest import category, cause

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

R = Staff.Role
ROLES = ("officer", "head", "admin")


@pytest.fixture
def people(org):
    """For each role: the subject of the complaint, and a colleague of the same role who reaches it too."""
    return {
        "officer": (org.west_officer, StaffFactory(username="west_officer2", branch=org.west, role=R.OFFICER)),
        "head": (org.west_head, StaffFactory(username="west_head2", branch=org.west, role=R.HEAD)),
        "admin": (org.admin, StaffFactory(username="hq_admin2", branch=org.top, role=R.ADMIN)),
    }


def test_the_matrix_covers_every_action():
    assert set(ACTION_STATE) == set(permissions.ACTIONS) == set(views.ACTIONS)


# The state each action is taken from: built by the head of the whole branch (never a subject here), with the
# RM rm_west2 as the handler.
ACTION_STATE = {
    "accept": "registered",
    "assign": "registered",
    "withdraw": "registered",
    "note": "registered",
    "contact": "registered",
    "attach": "registered",
    "repeat": "registered",
    "start": "accepted",
    "extend": "in_progress",
    "pause": "in_progress",
    "decide": "in_progress",
    "resume": "paused",
    "approve": "pending_extension",
    "reject": "pending_extension",
    "callback": "decided",
    "close": "decided",
    "reopen": "decided",
}


def prepare(org, book, subject: Staff, state: str) -> Complaint:
    c = services.complaint_register(
        actor=org.top_head.user,
        customer=book.west,
        branch=org.west_outlet,
        subject_staff=subject,
        category=category(),
        channel="counter",
        request="退费",
        facts="多收费",
    )
    if state == "registered":
        return c
    c = services.complaint_accept(actor=org.top_head.user, complaint=c, handler=org.rm_west2)
    if state == "accepted":
        return c
    handler = org.rm_west2.user
    c = services.complaint_start(actor=handler, complaint=c)
    if state == "paused":
        return services.clock_pause(actor=handler, complaint=c, reason="司法鉴定", customer_told=True)
    if state == "pending_extension":
        told = {"customer_told_at": timezone.now(), "customer_told_via": "电话"}
        services.extension_request(actor=handler, complaint=c, reason="复杂", **told)
        services.extension_request(actor=handler, complaint=c, reason="需鉴定", **told)
    if state == "decided":
        c = services.complaint_decide(
            actor=handler, complaint=c, decision="退还", customer_told_via="电话", remedies_told=True
        )
    return Complaint.objects.get(pk=c.pk)


def act(org, action: str, staff: Staff, c: Complaint):
    u = staff.user
    pending = c.extensions.filter(status=ComplaintExtension.Status.PENDING).first()
    calls = {
        "accept": lambda: services.complaint_accept(actor=u, complaint=c),
        "assign": lambda: services.complaint_assign(actor=u, complaint=c, handler=org.rm_west2),
        "start": lambda: services.complaint_start(actor=u, complaint=c),
        "extend": lambda: services.extension_request(
            actor=u, complaint=c, reason="复杂", customer_told_at=timezone.now(), customer_told_via="电话"
        ),
        "approve": lambda: services.extension_approve(actor=u, extension=pending),
        "reject": lambda: services.extension_reject(actor=u, extension=pending, note="理由不足"),
        "pause": lambda: services.clock_pause(actor=u, complaint=c, reason="鉴定", customer_told=True),
        "resume": lambda: services.clock_resume(actor=u, complaint=c),
        "decide": lambda: services.complaint_decide(
            actor=u, complaint=c, decision="退还", customer_told_via="电话", remedies_told=True
        ),
        "callback": lambda: services.callback_record(actor=u, complaint=c, satisfaction=4),
        "close": lambda: services.complaint_close(actor=u, complaint=c, cause=cause(), corrective_action="培训"),
        "reopen": lambda: services.complaint_reopen(actor=u, complaint=c, reason="申请核查"),
        "withdraw": lambda: services.complaint_withdraw(actor=u, complaint=c),
        "note": lambda: services.note_add(actor=u, complaint=c, text="备注"),
        "contact": lambda: services.contact_record(actor=u, complaint=c, via="电话", text="已沟通"),
        "attach": lambda: services.attachment_add(
            actor=u, complaint=c, upload=SimpleUploadedFile("信.pdf", b"%PDF-1.4 x")
        ),
        "repeat": lambda: services.repeat_contact_record(
            actor=u, complaint=c, channel="hotline", text="再次来电", new_facts=False
        ),
    }
    return calls[action]()


def offered(staff: Staff, c: Complaint) -> list[str]:
    return views.available(staff, selectors.complaint_detail(staff.user, c.pk))


def history(c: Complaint):
    c.refresh_from_db()
    return (c.status, c.handler_id, c.extension_level, c.events.count(), c.attachments.count())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTION_STATE))
def test_the_subject_takes_no_action_in_any_role(org, book, people, settings, tmp_path, role, action):
    settings.MEDIA_ROOT = tmp_path
    subject, colleague = people[role]
    c = prepare(org, book, subject, ACTION_STATE[action])
    assert subject.role == colleague.role
    # The subject still reads it (their scope reaches it), but is offered nothing, and a forged call is refused.
    assert action not in offered(subject, c)
    before = history(c)
    with pytest.raises(PermissionDenied, match="this complaint is about"):
        act(org, action, subject, c)
    assert history(c) == before
    # A colleague of the same role may.
    assert action in offered(colleague, c)
    act(org, action, colleague, c)
    assert history(c) != before


def test_the_subject_sees_a_read_only_page(org, book, people, login):
    c = prepare(org, book, org.west_head, "in_progress")
    url = reverse("complaints:complaint-detail", args=[c.pk])
    page = login(org.west_head).get(url).content.decode()
    assert 'data-testid="recused"' in page and "data-action=" not in page
    response = login(org.west_head).post(url, {"action": "decide", "decision": "驳回", "customer_told_via": "电话"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == Complaint.Status.IN_PROGRESS and not c.decision
    colleague_page = login(people["head"][1]).get(url).content.decode()
    assert 'data-testid="recused"' not in colleague_page and 'data-action="decide"' in colleague_page


def test_the_subject_may_register_but_not_pick_the_handler(org, book):
    """Receiving a complaint is a duty of whoever receives it; choosing who handles it is not the subject's."""
    register = {
        "actor": org.west_head.user,
        "customer": book.west,
        "subject_staff": org.west_head,
        "category": category(),
        "channel": "counter",
        "request": "r",
        "facts": "f",
    }
    with pytest.raises(ValidationError) as e:
        services.complaint_register(**register, handler=org.west_officer)
    assert "handler" in e.value.message_dict
    assert not Complaint.objects.exists()
    c = services.complaint_register(**register, attachments=[SimpleUploadedFile("信.pdf", b"%PDF-1.4 x")])
    assert c.registered_by == org.west_head and c.attachments.count() == 1


def test_escalations_never_go_to_the_subject(org, book):
    c = prepare(org, book, org.west_head, "accepted")  # handled by rm_west2 of 西二网点, under 西支行
    recipients = services.escalation_recipients(Complaint.objects.get(pk=c.pk))
    assert org.west_head not in recipients
    assert org.top_head in recipients  # the nearest head above who is not the subject
    assert org.west_officer in recipients


# ----------------------------------------------------------------------------------------------------------------
# The second extension: a higher-level institution or head office (the Measures art. 20)
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def outlet_staff(org):
    return {
        "outlet_head": StaffFactory(username="outlet_head", branch=org.west_outlet, role=R.HEAD),
        "outlet_officer": StaffFactory(username="outlet_officer", branch=org.west_outlet, role=R.OFFICER),
    }


def pending_second(org, book, branch) -> Complaint:
    c = services.complaint_register(
        actor=org.admin.user, customer=book.west, branch=branch, category=category(), channel="counter",
        request="r", facts="f", handler=org.rm_west2,
    )  # fmt: skip
    services.complaint_accept(actor=org.admin.user, complaint=c)
    c = services.complaint_start(actor=org.rm_west2.user, complaint=c)
    told = {"customer_told_at": timezone.now(), "customer_told_via": "电话"}
    services.extension_request(actor=org.rm_west2.user, complaint=c, reason="复杂", **told)
    services.extension_request(actor=org.rm_west2.user, complaint=c, reason="需鉴定", **told)
    return Complaint.objects.get(pk=c.pk)


# who → may approve the second extension of a complaint about 西一网点 (an outlet of 西支行, under 总分行)
OUTLET_COMPLAINT = {
    "outlet_head": False,  # the head of the branch itself
    "outlet_officer": False,  # an officer of the branch itself
    "rm_west2": False,  # the handler, who asked for it
    "east_head": False,  # not above the branch
    "west_head": True,  # the sub-branch above
    "west_officer": True,
    "top_head": True,  # the branch above that
    "admin": True,  # head office
}


@pytest.mark.parametrize(("who", "allowed"), list(OUTLET_COMPLAINT.items()))
def test_who_approves_the_second_extension(org, book, outlet_staff, who, allowed):
    staff = outlet_staff.get(who) or getattr(org, who)
    c = pending_second(org, book, org.west_outlet)
    extension = c.extensions.get(status=ComplaintExtension.Status.PENDING)
    if selectors.complaints_visible_to(staff.user).filter(pk=c.pk).exists():  # the page offers what the service allows
        offered_actions = views.available(staff, selectors.complaint_detail(staff.user, c.pk))
        assert ("approve" in offered_actions) is allowed and ("reject" in offered_actions) is allowed
    if allowed:
        services.extension_approve(actor=staff.user, extension=extension)
        c.refresh_from_db()
        assert c.extension_level == 2
    else:
        with pytest.raises((PermissionDenied, ValidationError)):
            services.extension_approve(actor=staff.user, extension=extension)
        with pytest.raises((PermissionDenied, ValidationError)):
            services.extension_reject(actor=staff.user, extension=extension, note="不同意")
        c.refresh_from_db()
        assert c.extension_level == 1
        assert c.extensions.get(pk=extension.pk).status == ComplaintExtension.Status.PENDING


def test_a_same_branch_approver_is_told_who_may(org, book, outlet_staff):
    c = pending_second(org, book, org.west_outlet)
    extension = c.extensions.get(status=ComplaintExtension.Status.PENDING)
    with pytest.raises(ValidationError, match="higher-level institution"):
        services.extension_approve(actor=outlet_staff["outlet_head"].user, extension=extension)


def test_a_complaint_about_a_sub_branch_needs_the_branch_above(org, book):
    c = pending_second(org, book, org.west)
    extension = c.extensions.get(status=ComplaintExtension.Status.PENDING)
    for same_branch in (org.west_head, org.west_officer):
        with pytest.raises(ValidationError):
            services.extension_approve(actor=same_branch.user, extension=extension)
    services.extension_approve(actor=org.top_head.user, extension=extension)
    assert Complaint.objects.get(pk=c.pk).extension_level == 2


def test_whoever_asked_for_it_does_not_approve_it(org, book):
    c = pending_second(org, book, org.west)
    c = services.complaint_assign(actor=org.admin.user, complaint=c, handler=org.rm_west)
    extension = c.extensions.get(status=ComplaintExtension.Status.PENDING)
    extension.requested_by = org.top_head  # as if the head of the whole branch had asked for it
    extension.save(update_fields=["requested_by"])
    with pytest.raises(ValidationError):
        services.extension_approve(actor=org.top_head.user, extension=extension)
    services.extension_approve(actor=org.admin.user, extension=extension)


def test_the_request_asks_only_those_who_may_approve(org, book, outlet_staff):
    c = pending_second(org, book, org.west_outlet)

    def asked(staff):
        return staff.notifications.filter(text__contains=c.reference, text__icontains="second extension").exists()

    for staff in (org.west_head, org.west_officer, org.top_head):
        assert asked(staff)
    for staff in (outlet_staff["outlet_head"], outlet_staff["outlet_officer"], org.east_head, org.rm_west2):
        assert not asked(staff)


def test_a_complaint_about_the_top_branch_asks_head_office(org, book):
    c = pending_second(org, book, org.top)
    assert org.admin.notifications.filter(text__contains=c.reference).exists()
    assert not org.top_head.notifications.filter(text__contains=c.reference, text__icontains="approval").exists()
    extension = c.extensions.get(status=ComplaintExtension.Status.PENDING)
    with pytest.raises(ValidationError):
        services.extension_approve(actor=org.top_head.user, extension=extension)
    services.extension_approve(actor=org.admin.user, extension=extension)
