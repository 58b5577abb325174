"""Page URLs of the feature_requests app."""

app_name = "feature_requests"
urlpatterns: list = []
