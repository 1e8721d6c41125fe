"""Messages get their number in their room (Message.seq), the `id` the protocol sends from now on.

Existing messages are numbered 1, 2, 3 ... in each room in the order of their primary key, and each room
remembers its last number (Room.last_seq)."""

from django.db import migrations, models


def number_existing_messages(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Message = apps.get_model("rooms", "Message")
    for room in Room.objects.all():
        seq = 0
        for message in Message.objects.filter(room=room).order_by("id").only("id"):
            seq += 1
            Message.objects.filter(pk=message.pk).update(seq=seq)
        Room.objects.filter(pk=room.pk).update(last_seq=seq)


class Migration(migrations.Migration):

    dependencies = [
        ("rooms", "0002_client_id_unique_per_room"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="last_seq",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_existing_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.RemoveIndex(
            model_name="message",
            name="rooms_messa_room_id_0bf2cf_idx",
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("room", "seq"), name="one_message_per_number_in_room"),
        ),
        migrations.AlterModelOptions(
            name="message",
            options={"ordering": ["room_id", "seq"]},
        ),
    ]
