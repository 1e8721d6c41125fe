"""The HTTP side: the page, and the endpoint the page polls."""

from django.http import JsonResponse
from django.shortcuts import render

from realtime.ticks import tick


def index(request):
    return render(request, "clock/index.html")


def current_time(request):
    """One tick per request: to see time pass, the browser must ask again and again."""
    # BEGIN SOLUTION task=5
    response = JsonResponse(tick())
    response["Cache-Control"] = "no-store"
    return response
    # END SOLUTION
