"""Page URLs of the tickets app."""

app_name = "tickets"
urlpatterns: list = []
