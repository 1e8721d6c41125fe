"""The HTTP side: one page that shows who you are and what each socket says."""

from django.shortcuts import render


def index(request):
    return render(request, "live/index.html")
