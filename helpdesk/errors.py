"""Errors that services raise and pages and the API turn into clear messages."""


class DomainError(Exception):
    """A use case was refused for a reason the user can act on (API: 400)."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(DomainError):
    """Someone else changed the object first; the edit was not applied (API: 409)."""

    status_code = 409
