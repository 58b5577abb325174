"""Placeholder: filled in by the pages work of issue 9."""

from django.http import Http404


def kpi_page(request, *args, **kwargs):
    raise Http404


def kpi_csv(request, *args, **kwargs):
    raise Http404
