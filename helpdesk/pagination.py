"""Default API pagination (its own module: DRF imports it while defining its views)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: every page costs the same, however many rows there are."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
