"""The two models of the Channels 1 examples: chat messages, and the data binding's IntegerValue."""

from django.db import models


class ChatMessage(models.Model):
    room = models.CharField(max_length=30)
    message = models.TextField()


class IntegerValue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    value = models.IntegerField(default=0)
