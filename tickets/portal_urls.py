"""Customer portal pages for requests (tickets), mounted at /portal/requests/."""

app_name = "portal_tickets"
urlpatterns: list = []
