from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # Log out is a POST (Django 5): a link or an <img> on another site cannot log you out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
