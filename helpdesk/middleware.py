from helpdesk import views


class HealthCheckMiddleware:
    """Answer /healthz before host validation and HTTPS redirects.

    Container health checks and load balancers call it by IP address over plain HTTP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise refuse.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return views.healthz(request)
        return self.get_response(request)
