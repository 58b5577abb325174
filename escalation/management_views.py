"""Placeholder: filled in by the pages work of issue 9."""

from django.http import Http404


def board(request, *args, **kwargs):
    raise Http404


def request_list(request, *args, **kwargs):
    raise Http404


def request_detail(request, *args, **kwargs):
    raise Http404


def proposal_make(request, *args, **kwargs):
    raise Http404


def proposal_withdraw(request, *args, **kwargs):
    raise Http404


def ticket_escalate(request, *args, **kwargs):
    raise Http404
