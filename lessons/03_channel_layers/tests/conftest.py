import pytest

from chat import members


@pytest.fixture(autouse=True)
def fresh_layer_and_rooms(settings):
    """Each test starts with an empty in-memory layer and empty rooms.

    Assigning CHANNEL_LAYERS (even to the same value) makes Channels build a new layer, so no
    group or queue from an earlier test (and its event loop) survives.
    """
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS}
    members.forget_everyone()
    yield
    members.forget_everyone()

