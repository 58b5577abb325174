"""Placeholder: filled in by the pages work of issue 9."""

from django.http import Http404


def wait_times(request, *args, **kwargs):
    raise Http404
