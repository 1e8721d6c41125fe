from django.urls import path

from clock import views

urlpatterns = [
    path("", views.index, name="index"),
    path("api/time/", views.current_time, name="current-time"),
]
