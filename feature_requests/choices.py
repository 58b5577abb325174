"""Statuses and kinds of the feature_requests app (TextChoices)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    QM_REVIEW = "qm_review", _("Review by quality management")
    DEPARTMENT_REVIEW = "department_review", _("Review by the department")
    ACCEPTED = "accepted", _("Accepted")
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")


# The allowed moves, one entry per status (STYLE R3). Merging is its own use case (it
# needs the surviving request) and is open from every status but "merged" and "done".
MOVES: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.QM_REVIEW, Status.REJECTED}),
    Status.QM_REVIEW: frozenset({Status.DEPARTMENT_REVIEW, Status.REJECTED}),
    # The department may send a request back to quality management (wrong department,
    # not enough detail) instead of deciding it.
    Status.DEPARTMENT_REVIEW: frozenset({Status.ACCEPTED, Status.REJECTED, Status.QM_REVIEW}),
    Status.ACCEPTED: frozenset({Status.PLANNED, Status.REJECTED}),
    Status.PLANNED: frozenset({Status.DONE, Status.ACCEPTED, Status.REJECTED}),
    Status.DONE: frozenset(),
    # Enough new asks, or quality management's own second look, reopen the review.
    Status.REJECTED: frozenset({Status.QM_REVIEW}),
    Status.MERGED: frozenset(),
}
MERGEABLE = frozenset(set(Status) - {Status.MERGED, Status.DONE})
# Decided by quality management; the rest by the department (or quality management for it).
QM_STATUSES = frozenset({Status.NEW, Status.QM_REVIEW, Status.REJECTED})
# Statuses whose review queue is quality management's, and the department's.
QM_QUEUE = frozenset({Status.NEW, Status.QM_REVIEW})
DEPARTMENT_QUEUE = frozenset({Status.DEPARTMENT_REVIEW})
# Decisions on the wish itself; "asks since the last decision" count from the latest one.
# Starting a review or passing it on decides nothing for the customer.
DECISIONS = frozenset({Status.ACCEPTED, Status.PLANNED, Status.DONE, Status.REJECTED})


class TargetDepartment(models.TextChoices):
    """Whom a request concerns: helpdesk departments and those outside it."""

    DEVELOPMENT = "development", _("Development")
    WEBSITE = "website", _("Web site")
    TECH = "tech", _("Tech")
    BILLING = "billing", _("Billing")
    CONTRACTS = "contracts", _("Contracts")
    CUSTOMER_SERVICE = "customer-service", _("Customer service")


# Target departments that are helpdesk departments (same slug): their team leads review
# requests passed to them. Development and the web site work outside the helpdesk, so
# quality management records their decision.
OUTSIDE_DEPARTMENTS = frozenset({TargetDepartment.DEVELOPMENT, TargetDepartment.WEBSITE})
HELPDESK_DEPARTMENTS = frozenset(
    {
        TargetDepartment.TECH,
        TargetDepartment.BILLING,
        TargetDepartment.CONTRACTS,
        TargetDepartment.CUSTOMER_SERVICE,
    }
)


class AskKind(models.TextChoices):
    WISH = "wish", _("Customer's wish")
    DECLINED = "declined", _("Request we had to decline")


class EventKind(models.TextChoices):
    CREATED = "feature_request.created", _("Recorded")
    STATUS_CHANGED = "feature_request.status_changed", _("Status changed")
    EDITED = "feature_request.edited", _("Edited")
    MERGED = "feature_request.merged", _("Merged into another request")
    MERGE_RECEIVED = "feature_request.merge_received", _("Another request merged into this one")
    REVIEW_REOPENED = "feature_request.review_reopened", _("Review reopened by new asks")


class Ordering(models.TextChoices):
    """Sort orders of the list (pages and API)."""

    ASKS = "asks", _("Most asks")
    CUSTOMERS = "customers", _("Most customers")
    RECENT = "recent", _("Recently asked")
    NEWEST = "newest", _("Newest")
    STATUS = "status", _("Status")
