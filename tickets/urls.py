"""Page URLs of the tickets app in the agent workspace (under /agent/tickets/)."""

from django.urls import path, register_converter

from tickets import views


class ReferenceConverter:
    """A ticket reference such as 2026-004711, so it never shadows the fixed pages."""

    regex = r"\d{4}-\d{6,7}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ticket_reference")

ACTIONS = [
    ("take", views.ticket_take),
    ("assign", views.ticket_assign),
    ("unassign", views.ticket_unassign),
    ("reply", views.ticket_reply),
    ("note", views.ticket_note),
    ("status", views.ticket_status),
    ("escalate", views.ticket_escalate),
    ("handoff", views.ticket_handoff),
    ("hand-back", views.ticket_hand_back),
    ("priority", views.ticket_priority),
]

app_name = "tickets"
urlpatterns = [
    path("mine/", views.my_tickets, name="my-tickets"),
    path("queues/<int:queue_id>/", views.queue_detail, name="queue-detail"),
    path("search/", views.ticket_search, name="ticket-search"),
    path("new/<str:number>/", views.ticket_create, name="ticket-create"),
    path("customer/<str:number>/", views.customer_tickets, name="customer-tickets"),
    path("text-modules/", views.text_module_list, name="text-module-list"),
    path("text-modules/new/", views.text_module_create, name="text-module-create"),
    path("text-modules/<int:module_id>/", views.text_module_edit, name="text-module-edit"),
    path(
        "text-modules/<int:module_id>/archive/",
        views.text_module_archive,
        name="text-module-archive",
    ),
    path(
        "text-modules/<int:module_id>/restore/",
        views.text_module_restore,
        name="text-module-restore",
    ),
    path(
        "<ticket_reference:reference>/text-modules/",
        views.ticket_text_modules,
        name="ticket-text-modules",
    ),
    path("<ticket_reference:reference>/", views.ticket_detail, name="ticket-detail"),
    *(
        path(f"<ticket_reference:reference>/{verb}/", view, name=f"ticket-{verb}")
        for verb, view in ACTIONS
    ),
]
