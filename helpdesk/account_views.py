"""The signed-in user's own security pages. (Foundation stub: filled in by the 2FA work.)"""

from django.http import HttpResponse


def two_factor_verify(request):
    return HttpResponse("two-factor verify")


def two_factor_setup(request):
    return HttpResponse("two-factor setup")
