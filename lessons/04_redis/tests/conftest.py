import pytest

from .chat_clients import layer_settings


@pytest.fixture(params=["memory", "redis"])
def layer_name(request, settings):
    """Run the test once on the in-memory layer and once on Redis: the two must behave alike."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    # Changing CHANNEL_LAYERS makes Channels build a new layer for this test.
    settings.CHANNEL_LAYERS = {"default": layer_settings(request.param, redis_url)}
    return request.param
