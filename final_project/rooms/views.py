from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .forms import AddMemberForm, RoomForm
from .models import Room

MAX_PAGE = 100


def room_for(request, slug: str) -> Room:
    room = get_object_or_404(Room, slug=slug)
    if not room.can_enter(request.user):
        raise PermissionDenied("This room is private.")
    return room


def page_of_messages(room: Room, before: int | None, limit: int) -> list[dict]:
    """Up to `limit` messages numbered below `before` (the newest when None), oldest first."""
    messages = room.messages.select_related("room", "user").order_by("-seq")
    if before is not None:
        messages = messages.filter(seq__lt=before)
    return [message.as_frame() for message in reversed(messages[:limit])]


@login_required
def lobby(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = form.save(creator=request.user)
        return redirect(room)
    rooms = Room.visible_to(request.user).select_related("created_by")
    return render(request, "rooms/lobby.html", {"rooms": rooms, "form": form})


@login_required
def room_page(request, slug):
    room = room_for(request, slug)
    history = page_of_messages(room, None, settings.CHAT_HISTORY_PAGE)
    return render(request, "rooms/room.html", {
        "room": room,
        "history": history,
        "is_creator": room.created_by_id == request.user.pk,
        "members": room.members.order_by("username"),
        "member_form": AddMemberForm(),
        "client_config": {"room": room.slug, "user": request.user.get_username(),
                          "history": history, "pageSize": settings.CHAT_HISTORY_PAGE,
                          "maxText": settings.CHAT_MAX_TEXT, "rateLimit": list(settings.CHAT_RATE_LIMIT)},
    })


@login_required
@require_POST
def add_member(request, slug):
    room = get_object_or_404(Room, slug=slug)
    if room.created_by_id != request.user.pk:
        raise PermissionDenied("Only the room's creator adds members.")
    form = AddMemberForm(request.POST)
    if form.is_valid():
        room.members.add(form.cleaned_data["username"])
        flash.success(request, f"{form.cleaned_data['username']} may now enter {room.name}.")
    else:
        flash.error(request, " ".join(form.errors["username"]))
    return redirect(room)


# --8<-- [start:history]
@login_required
@require_GET
def message_history(request, slug):
    """GET /rooms/<slug>/messages?before=<id>&limit=<n>: older messages, oldest first, as JSON."""
    room = room_for(request, slug)
    try:
        before = int(request.GET["before"]) if "before" in request.GET else None
        limit = int(request.GET.get("limit", settings.CHAT_HISTORY_PAGE))
    except ValueError:
        return JsonResponse({"error": "before and limit must be integers"}, status=400)
    if not 1 <= limit <= MAX_PAGE or (before is not None and before < 0):
        return JsonResponse({"error": f"limit must be 1-{MAX_PAGE}, before must be >= 0"}, status=400)
    page = page_of_messages(room, before, limit)
    return JsonResponse({"messages": page, "has_more": len(page) == limit})
# --8<-- [end:history]
