"""The one place where access to tickets is decided (STYLE R7).

- Agents and team leads see the tickets of the departments they belong to (any line:
  a first-line agent may follow what they escalated); they work (take, get assigned)
  queues up to their highest line.
- Management sees and may act on every ticket.
- A customer sees only their own tickets and only the public messages on them.
- Integrations see every ticket; their token scopes limit what they may do.
- Missing and not-yours both give 404, so references cannot be probed.
- Text modules: team leads manage those of their departments, management all of them;
  everyone who works a ticket inserts the modules of its department and their own.
- Outages: every workspace user sees them and links tickets they may work; the tech
  department, team leads, dispatchers and management open, update and resolve them.
  Customers see only outages that affect them (portal) and the public status page.
- Technician visits: tickets of the tech department only. Whoever may work the ticket
  books, moves and cancels its visit; dispatchers (and tech team leads, management)
  also run the day plan: technicians, done, missed, time windows. A customer sees,
  confirms, cancels or asks to move the visits of their own tickets.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from helpdesk import permissions as roles
from helpdesk.choices import Role
from tickets.choices import PUBLIC_MESSAGE_KINDS
from tickets.models import (
    Agent,
    Appointment,
    Attachment,
    Department,
    Outage,
    Queue,
    TextModule,
    Ticket,
    TicketMessage,
)

# The department whose tickets may book technician visits and who runs the network.
TECH_DEPARTMENT = "tech"


def sees_everything(user) -> bool:
    return (roles.is_staff_member(user) and Role.MANAGEMENT in roles.roles_of(user)) or (
        roles.is_integration(user)
    )


def agent_of(user) -> Agent | None:
    """The user's agent profile with departments, read once per request."""
    if not roles.is_staff_member(user):
        return None
    if "_helpdesk_agent" not in user.__dict__:
        user.__dict__["_helpdesk_agent"] = (
            Agent.objects.prefetch_related("departments").filter(user=user).first()
        )
    return user.__dict__["_helpdesk_agent"]


def department_ids_of(user) -> list[int]:
    agent = agent_of(user)
    return [department.pk for department in agent.departments.all()] if agent else []


def departments_visible_to(user) -> QuerySet[Department]:
    if sees_everything(user):
        return Department.objects.all()
    return Department.objects.filter(pk__in=department_ids_of(user))


def queues_visible_to(user) -> QuerySet[Queue]:
    queues = Queue.objects.select_related("department").filter(is_active=True)
    if sees_everything(user):
        return queues
    return queues.filter(department_id__in=department_ids_of(user))


def tickets_visible_to(user) -> QuerySet[Ticket]:
    """Every list, search and lookup of tickets starts here."""
    if sees_everything(user):
        return Ticket.objects.all()
    if roles.is_staff_member(user):
        return Ticket.objects.filter(queue__department_id__in=department_ids_of(user))
    if roles.can_use_portal(user):
        return Ticket.objects.filter(customer__user=user)
    return Ticket.objects.none()


def messages_visible_to(user, ticket: Ticket) -> QuerySet[TicketMessage]:
    messages = TicketMessage.objects.filter(ticket=ticket)
    if roles.can_use_portal(user):
        messages = messages.filter(kind__in=PUBLIC_MESSAGE_KINDS)
    return messages


def mark_visible(user, tickets) -> None:
    """Set `visible` on each ticket: whether the user may open it. A customer's other
    tickets are listed to every agent, but only those of their departments are links."""
    everything = sees_everything(user)
    mine = set(department_ids_of(user))
    for ticket in tickets:
        ticket.visible = everything or ticket.queue.department_id in mine


def ticket_for(user, reference: str, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket with that reference if the user may see it; 404 for missing and not yours."""
    visible = tickets_visible_to(user)
    if queryset is not None:
        visible = queryset & visible
    return get_object_or_404(visible, reference=reference)


def own_ticket(user, reference: str, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """A portal customer's own ticket (404 for anything else, staff included)."""
    if not roles.can_use_portal(user):
        raise Http404
    return ticket_for(user, reference, queryset)


def can_work(user, ticket: Ticket) -> bool:
    """Reply, note, change status, escalate, hand off: staff who see the ticket."""
    if sees_everything(user):
        return roles.is_staff_member(user) or roles.is_integration(user)
    return roles.is_staff_member(user) and ticket.queue.department_id in department_ids_of(user)


def can_assign_others(user) -> bool:
    """Team leads and management hand tickets to colleagues; agents take them themselves."""
    if roles.is_integration(user):
        return True
    agent = agent_of(user)
    return Role.MANAGEMENT in roles.roles_of(user) or bool(agent and agent.is_team_lead)


def ensure_can_work(user, ticket: Ticket) -> None:
    if not can_work(user, ticket):
        raise PermissionDenied


def ensure_can_assign(user, ticket: Ticket, assignee) -> None:
    ensure_can_work(user, ticket)
    if assignee.pk != user.pk and not can_assign_others(user):
        raise PermissionDenied


def attachment_for(user, token: str) -> Attachment:
    """An attachment of a ticket the user may see, on a message they may see. Files are for
    people (workspace and portal); an integration's session sees every ticket but gets no
    file, and a signed-out visitor a 404 like anyone else."""
    if not (roles.can_use_workspace(user) or roles.can_use_portal(user)):
        raise Http404
    attachment = get_object_or_404(
        Attachment.objects.select_related("message__ticket"), token=token
    )
    ticket = attachment.message.ticket
    if not tickets_visible_to(user).filter(pk=ticket.pk).exists():
        raise Http404
    if roles.can_use_portal(user) and attachment.message.kind not in PUBLIC_MESSAGE_KINDS:
        raise Http404
    return attachment


# --- Text modules -------------------------------------------------------------------------


def can_manage_text_modules(user) -> bool:
    """Team leads and management keep the text modules; agents only insert them."""
    return roles.is_staff_member(user) and bool(
        {Role.TEAM_LEAD, Role.MANAGEMENT} & roles.roles_of(user)
    )


def ensure_can_manage_text_modules(user) -> None:
    if not can_manage_text_modules(user):
        raise PermissionDenied


def text_module_departments_of(user) -> QuerySet[Department]:
    """Departments whose modules the user manages: all for management, a team lead's own."""
    if not can_manage_text_modules(user):
        return Department.objects.none()
    if Role.MANAGEMENT in roles.roles_of(user):
        return Department.objects.all()
    return Department.objects.filter(pk__in=department_ids_of(user))


def manages_text_modules_of_any_department(user) -> bool:
    """Whether the user manages any department's modules (no query of its own)."""
    if not can_manage_text_modules(user):
        return False
    return Role.MANAGEMENT in roles.roles_of(user) or bool(department_ids_of(user))


def text_modules_managed_by(user) -> QuerySet[TextModule]:
    """Every list and lookup on the text module pages starts here."""
    if not can_manage_text_modules(user):
        return TextModule.objects.none()
    if Role.MANAGEMENT in roles.roles_of(user):
        return TextModule.objects.all()
    return TextModule.objects.filter(department_id__in=department_ids_of(user))


def text_module_for(user, module_id: int) -> TextModule:
    """A module the user manages: 403 for those who manage none, 404 for someone else's."""
    ensure_can_manage_text_modules(user)
    return get_object_or_404(
        text_modules_managed_by(user).select_related("department"), pk=module_id
    )


def text_module_department_ids_for(user, ticket: Ticket) -> list[int]:
    """Whose modules the user may insert on this ticket: those of its department and of the
    user's own departments; none for someone who may not work the ticket."""
    if not can_work(user, ticket):
        return []
    return sorted({ticket.queue.department_id, *department_ids_of(user)})


# --- Outages ------------------------------------------------------------------------------


def _in_tech(user) -> bool:
    agent = agent_of(user)
    return bool(agent) and any(d.slug == TECH_DEPARTMENT for d in agent.departments.all())


def can_manage_outages(user) -> bool:
    """Open, update and resolve outages (integrations: by their token's scope)."""
    if roles.is_integration(user):
        return True
    if not roles.is_staff_member(user):
        return False
    leads = {Role.MANAGEMENT, Role.TEAM_LEAD, Role.DISPATCHER}
    return bool(leads & roles.roles_of(user)) or _in_tech(user)


def ensure_can_manage_outages(user) -> None:
    if not can_manage_outages(user):
        raise PermissionDenied


def outage_for(user, outage_id: int, queryset: QuerySet[Outage] | None = None) -> Outage:
    """An outage for the workspace or an integration; customers go through the portal."""
    if not (roles.is_staff_member(user) or roles.is_integration(user)):
        raise Http404
    return get_object_or_404(queryset if queryset is not None else Outage.objects, pk=outage_id)


# --- Technician visits --------------------------------------------------------------------


def can_dispatch(user) -> bool:
    """Run the day plan: technicians, done/missed, time windows."""
    if not roles.is_staff_member(user):
        return False
    held = roles.roles_of(user)
    if Role.DISPATCHER in held or Role.MANAGEMENT in held:
        return True
    return Role.TEAM_LEAD in held and _in_tech(user)


def ensure_can_dispatch(user) -> None:
    if not can_dispatch(user):
        raise PermissionDenied


def can_see_day_plan(user) -> bool:
    """Read the dispatcher's day plan: dispatchers, and the tech department read-only."""
    return can_dispatch(user) or (roles.is_staff_member(user) and _in_tech(user))


def books_visits(ticket: Ticket) -> bool:
    """Whether the ticket's department is the one that sends technicians."""
    return ticket.queue.department.slug == TECH_DEPARTMENT


def can_book_visit(user, ticket: Ticket) -> bool:
    """Book, move or cancel a visit: tech tickets, for whoever may work them."""
    if not books_visits(ticket):
        return False
    return can_work(user, ticket) or can_dispatch(user)


def ensure_can_book_visit(user, ticket: Ticket) -> None:
    if not can_book_visit(user, ticket):
        raise PermissionDenied


def appointment_for(user, appointment_id: int) -> Appointment:
    """A visit on a ticket the user may see (404 otherwise), with what its pages show."""
    queryset = Appointment.objects.select_related(
        "window__region", "technician", "ticket__customer", "ticket__queue__department"
    )
    return get_object_or_404(queryset, pk=appointment_id, ticket__in=tickets_visible_to(user))


def own_appointment(user, appointment_id: int) -> Appointment:
    """A portal customer's own visit (404 for anything else, staff included)."""
    if not roles.can_use_portal(user):
        raise Http404
    return appointment_for(user, appointment_id)
