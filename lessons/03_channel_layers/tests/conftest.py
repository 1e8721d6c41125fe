import pytest
from channels.layers import get_channel_layer

from chat import members

from .layer_calls import LayerCalls


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


@pytest.fixture(autouse=True)
def layer_calls(fresh_layer_and_rooms) -> LayerCalls:
    """The send and group_send calls made on this test's layer (by consumers, views and signals alike).
    Every test records them: a wait for a frame then ends early when a call says it cannot come."""
    return LayerCalls(get_channel_layer())
