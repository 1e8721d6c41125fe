from django.contrib import admin

from .models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_private", "created_by", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "user", "short_text", "created_at"]
    list_filter = ["room"]
    search_fields = ["text", "user__username", "client_id"]
    list_select_related = ["room", "user"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False  # messages come through the room's socket, which numbers them (Message.store)

    @admin.display(description="text")
    def short_text(self, message):
        return message.text[:80]
