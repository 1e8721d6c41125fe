from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from .models import Room


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "is_private"]
        labels = {"is_private": "Private (only members you add)"}

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Room.objects.filter(slug=slugify(name)).exists():
            raise forms.ValidationError("A room with this name (or a name too close to it) exists.")
        return name

    def save(self, creator):
        room = super().save(commit=False)
        room.slug = slugify(room.name)
        room.created_by = creator
        room.save()
        return room


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)

    def clean_username(self):
        username = self.cleaned_data["username"]
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise forms.ValidationError(f"There is no user called {username}.") from None
