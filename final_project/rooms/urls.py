from django.urls import path

from . import views

urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("rooms/<slug:slug>/members", views.add_member, name="add_member"),
    path("rooms/<slug:slug>/messages", views.message_history, name="message_history"),
]
