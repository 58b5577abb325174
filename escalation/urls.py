"""Page URLs of the escalation app."""

app_name = "escalation"
urlpatterns: list = []
