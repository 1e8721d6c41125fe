import os

from django.shortcuts import render


def index(request):
    # Which process served the page: with two servers, each shows its own.
    return render(request, "chat/index.html", {"server": f"pid {os.getpid()}, port {request.get_port()}"})
