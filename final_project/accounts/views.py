from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render


def sign_up(request):
    """Create an account and log in with it at once."""
    if request.user.is_authenticated:
        return redirect("lobby")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("lobby")
    return render(request, "registration/signup.html", {"form": form})
