"""The HTTP side: a room picker, a page per room, and an endpoint that posts a notice to a room."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .broadcast import announce_to_room
from .protocol import FrameError, read_chat_message
from .rooms import room_name_problem


def index(request):
    if room_name := request.GET.get("room", "").strip():
        return redirect("room", room_name=room_name)
    return render(request, "chat/index.html")


def room(request, room_name):
    if problem := room_name_problem(room_name):
        raise Http404(problem)
    return render(request, "chat/room.html", {"room_name": room_name})


# --8<-- [start:post_notice]
# CSRF protects requests that a browser sends with the user's cookies. This endpoint is for
# scripts (a deploy job, a cron task): it ignores cookies and asks for a bearer token, which a
# browser never adds on its own, so a forged cross-site request cannot carry it.
@csrf_exempt
@require_POST
def post_notice(request, room_name):
    """POST {"message": "..."} with `Authorization: Bearer <NOTICE_TOKEN>`: every socket in the room gets it."""
    if not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {settings.NOTICE_TOKEN}"):
        return JsonResponse({"type": "error", "code": "unauthorized",
                             "detail": "Send the header Authorization: Bearer <NOTICE_TOKEN>."}, status=401)
    if problem := room_name_problem(room_name):
        return JsonResponse({"type": "error", "code": "bad_room_name", "detail": problem}, status=404)
    try:
        message = read_chat_message(request.body.decode("utf-8", errors="replace"))
    except FrameError as error:
        return JsonResponse({"type": "error", "code": error.code, "detail": error.detail}, status=400)
    # BEGIN SOLUTION task=3
    announce_to_room(room_name, message)
    # 202, not 200: the layer took the message, but promises no delivery (at most once).
    return JsonResponse({"type": "notice.sent", "room": room_name}, status=202)
    # END SOLUTION
# --8<-- [end:post_notice]
