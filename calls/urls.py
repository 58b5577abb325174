"""Page URLs of the calls app in the agent workspace (under /agent/calls/)."""

app_name = "calls"
urlpatterns: list = []
